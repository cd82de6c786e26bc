"""A server-side SVG bar chart of subscriber activity per week: no JavaScript, no library."""

SERIES = [
    ("signups", "Sign-ups", "#4a6fa5"),
    ("confirmations", "Confirmations", "#2e7d32"),
    ("unsubscribes", "Unsubscribes", "#b3261e"),
]


def nice_ceiling(value):
    """A round axis maximum at or above `value`: 1, 2, 5, 10, 20, 50…"""
    if value <= 0:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def weekly_chart(rows, *, width=760, height=260):
    """Geometry for templates/newsletter/admin/activity_chart.svg from weekly_activity()."""
    left, right, top, bottom = 44, 10, 10, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = nice_ceiling(max((row[key] for row in rows for key, _, _ in SERIES), default=0))
    group_w = plot_w / max(len(rows), 1)
    bar_w = max(2.0, (group_w - 6) / len(SERIES))
    groups = []
    for index, row in enumerate(rows):
        x0 = left + index * group_w + 3
        bars = []
        for offset, (key, label, color) in enumerate(SERIES):
            h = plot_h * row[key] / top_value
            bars.append(
                {
                    "x": round(x0 + offset * bar_w, 1),
                    "y": round(top + plot_h - h, 1),
                    "width": round(bar_w - 1, 1),
                    "height": round(h, 1),
                    "color": color,
                    "title": f"{label}, week of {row['week']:%-d %b}: {row[key]}",
                }
            )
        groups.append(
            {
                "bars": bars,
                "label": f"{row['week']:%-d %b}",
                "label_x": round(x0 + group_w / 2 - 3, 1),
            }
        )
    ticks = [
        {"value": round(top_value * i / 4), "y": round(top + plot_h - plot_h * i / 4, 1)}
        for i in range(5)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "plot_right": width - right,
        "baseline": top + plot_h,
        "label_y": top + plot_h + 16,
        "legend_y": height - 8,
        "groups": groups,
        "ticks": ticks,
        "legend": [
            {"label": label, "color": color, "x": left + i * 150}
            for i, (_, label, color) in enumerate(SERIES)
        ],
        "rows": rows,
    }
