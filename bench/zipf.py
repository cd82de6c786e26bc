"""Readers' choice of pages: Zipf weights over a ranked list of paths.

The busy-day benchmark (bench/newsroom_day.py) writes the ranked paths and their
cumulative weights to a file that wrk's Lua script (bench/wrk_day.lua) reads; the same
weights pick paths here, so the picker can be tested in Python.
"""

import bisect
import random


def zipf_weights(count, *, s=1.0):
    """Normalised weights 1/rank**s for ranks 1..count."""
    raw = [1 / rank**s for rank in range(1, count + 1)]
    total = sum(raw)
    return [weight / total for weight in raw]


def cumulative(weights):
    """Running totals, the last forced to exactly 1 so a draw of 0.999… always lands."""
    totals, running = [], 0.0
    for weight in weights:
        running += weight
        totals.append(running)
    if totals:
        totals[-1] = 1.0
    return totals


def pick(totals, draw):
    """The index a uniform draw in [0, 1) falls on (what wrk_day.lua does too)."""
    return min(bisect.bisect_right(totals, draw), len(totals) - 1)


def rank_paths(*, home, sections, others, seed=1):
    """Home first, then every section, then the rest (authors, tags, articles) shuffled.

    A reader most often opens the front page, then a section; the long tail of articles,
    authors and tags shares what is left, in an order fixed by `seed`.
    """
    rest = list(others)
    random.Random(seed).shuffle(rest)
    ranked, seen = [], set()
    for path in [home, *sections, *rest]:
        if path not in seen:
            seen.add(path)
            ranked.append(path)
    return ranked


def write_table(path, ranked, *, s=1.0):
    """One line per path: cumulative weight, a space, the path (read by wrk_day.lua)."""
    totals = cumulative(zipf_weights(len(ranked), s=s))
    with open(path, "w", encoding="utf-8") as handle:
        for total, url in zip(totals, ranked, strict=True):
            handle.write(f"{total:.12f} {url}\n")
    return totals
