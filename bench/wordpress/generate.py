"""A WordPress export the size of a real archive, and its wp-content/uploads folder.

    .venv/bin/python bench/wordpress/generate.py OUT_DIR [--posts 10000] [--attachments 2000]

Writes OUT_DIR/export.xml (WXR 1.2) and OUT_DIR/uploads/YYYY/MM/*.jpg. The posts mix what
real exports hold: classic posts (no paragraphs: wpautop restores them) and block posts,
[caption] shortcodes with credits, galleries, YouTube and X embeds, an unknown shortcode
now and then, nested categories, a pool of tags (some with commas or Cyrillic),
Co-Authors Plus bylines on a tenth, drafts, scheduled and private posts, a few
password-protected. Every attachment is a 1600 x 1067 JPEG with IPTC by-line and credit.
Deterministic: the same arguments give the same files.
"""

import argparse
import io
import random
import sys
import zlib
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from articles.images import IPTC_BYLINE, IPTC_CREDIT, with_iptc  # noqa: E402

BASE = "https://archive.example.com"
WORDS = [
    "government",
    "minister",
    "election",
    "market",
    "report",
    "city",
    "council",
    "police",
    "court",
    "water",
    "energy",
    "school",
    "hospital",
    "budget",
    "vote",
    "protest",
    "border",
    "climate",
    "river",
    "bridge",
    "housing",
    "rent",
    "tax",
    "union",
    "strike",
    "festival",
    "museum",
    "border",
    "trade",
    "war",
    "peace",
    "talks",
    "summit",
    "winter",
    "harvest",
]
AGENCIES = ["Reuters", "AFP", "AP", "Getty Images", "EPA"]
CATEGORIES = [("news", ""), ("politics", "news"), ("world", "news"), ("europe", "world"),
              ("business", ""), ("culture", ""), ("books", "culture"), ("sport", ""),
              ("opinion", ""), ("science", "")]  # fmt: skip


def cdata(text):
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def sentence(rng, n=14):
    words = rng.choices(WORDS, k=n)
    return " ".join(words).capitalize() + "."


def paragraph(rng):
    return " ".join(sentence(rng, rng.randint(8, 20)) for _ in range(rng.randint(2, 5)))


def pictures(count, seed=7):
    """A few distinct photo-like JPEGs (texture, not flat colour: realistic decode cost)."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        small = Image.new("RGB", (160, 107))
        small.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(160 * 107)])
        big = small.resize((1600, 1067), Image.BICUBIC).filter(ImageFilter.GaussianBlur(2))
        buffer = io.BytesIO()
        big.save(buffer, "JPEG", quality=82)
        made.append(buffer.getvalue())
    return made


def item_xml(fields, terms=(), meta=()):
    parts = [f"<{name}>{value}</{name}>" for name, value in fields]
    parts += [f'<category domain="{d}" nicename="{n}">{cdata(v)}</category>' for d, n, v in terms]
    parts += [
        f"<wp:postmeta><wp:meta_key>{cdata(k)}</wp:meta_key>"
        f"<wp:meta_value>{cdata(v)}</wp:meta_value></wp:postmeta>"
        for k, v in meta
    ]
    return "\t<item>\n\t\t" + "\n\t\t".join(parts) + "\n\t</item>\n"


def generate(out, *, posts, attachments, seed=1):
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    uploads = out / "uploads"
    photos = pictures(12)
    authors = [(f"writer{n}", f"Writer {n} Surname") for n in range(60)]
    tags = [f"topic {n}" for n in range(1500)] + [f"Place {n}, Country" for n in range(300)]
    tags += [f"Тема {n}" for n in range(200)]
    start = datetime(2012, 1, 1, 8, 0)
    span = (datetime(2026, 6, 1) - start).total_seconds()
    with open(out / "export.xml", "w", encoding="utf-8") as xml:
        xml.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
            'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            f"\t<title>Archive</title>\n\t<link>{BASE}</link>\n\t<wp:wxr_version>1.2</wp:wxr_version>\n"
            f"\t<wp:base_site_url>{BASE}</wp:base_site_url>\n\t<wp:base_blog_url>{BASE}</wp:base_blog_url>\n"
        )
        for n, (login, name) in enumerate(authors, start=1):
            xml.write(
                f"\t<wp:author><wp:author_id>{n}</wp:author_id><wp:author_login>{cdata(login)}"
                f"</wp:author_login><wp:author_email>{cdata(login + '@archive.example.com')}"
                f"</wp:author_email><wp:author_display_name>{cdata(name)}"
                "</wp:author_display_name></wp:author>\n"
            )
        for n, (slug, parent) in enumerate(CATEGORIES, start=1):
            xml.write(
                f"\t<wp:category><wp:term_id>{n}</wp:term_id><wp:category_nicename>{slug}"
                f"</wp:category_nicename><wp:category_parent>{parent}</wp:category_parent>"
                f"<wp:cat_name>{cdata(slug.title())}</wp:cat_name></wp:category>\n"
            )
        # Attachments first, as WordPress usually writes them (ids below the posts').
        attachment_dates = {}
        for n in range(attachments):
            wp_id = 100000 + n
            when = start + timedelta(seconds=span * n / max(1, attachments))
            path = f"{when:%Y/%m}/photo-{wp_id}.jpg"
            target = uploads / path
            target.parent.mkdir(parents=True, exist_ok=True)
            agency = AGENCIES[n % len(AGENCIES)]
            target.write_bytes(
                with_iptc(
                    photos[n % len(photos)],
                    {IPTC_BYLINE: f"Photographer {n % 97}", IPTC_CREDIT: agency},
                )
            )
            attachment_dates[wp_id] = path
            url = f"{BASE}/wp-content/uploads/{path}"
            xml.write(
                item_xml(
                    [
                        ("title", cdata(f"photo-{wp_id}")),
                        ("link", f"{BASE}/?attachment_id={wp_id}"),
                        ("dc:creator", cdata(authors[n % len(authors)][0])),
                        ("guid", cdata(url)),
                        ("content:encoded", cdata("")),
                        ("excerpt:encoded", cdata(sentence(rng, 8) if n % 3 else "")),
                        ("wp:post_id", str(wp_id)),
                        ("wp:post_date", cdata(f"{when:%Y-%m-%d %H:%M:%S}")),
                        (
                            "wp:post_date_gmt",
                            cdata(f"{when - timedelta(hours=1):%Y-%m-%d %H:%M:%S}"),
                        ),
                        ("wp:post_name", cdata(f"photo-{wp_id}")),
                        ("wp:status", cdata("inherit")),
                        ("wp:post_parent", "0"),
                        ("wp:post_type", cdata("attachment")),
                        ("wp:post_mime_type", cdata("image/jpeg")),
                        ("wp:attachment_url", cdata(url)),
                    ],
                    meta=[
                        ("_wp_attached_file", path),
                        ("_wp_attachment_image_alt", sentence(rng, 6)),
                    ],
                )
            )
        attachment_ids = list(attachment_dates)
        for n in range(posts):
            wp_id = 1 + n
            when = start + timedelta(seconds=span * n / max(1, posts))
            slug = f"story-{wp_id}-" + "-".join(rng.choices(WORDS, k=4))
            block = n % 2 == 0
            paragraphs = [paragraph(rng) for _ in range(rng.randint(6, 14))]
            picture = rng.choice(attachment_ids) if attachment_ids and n % 3 == 0 else None
            if block:
                pieces = [
                    f"<!-- wp:paragraph -->\n<p>{p}</p>\n<!-- /wp:paragraph -->" for p in paragraphs
                ]
                if picture:
                    src = f"{BASE}/wp-content/uploads/{attachment_dates[picture][:-4]}-1024x683.jpg"
                    pieces.insert(2, (
                        f'<!-- wp:image {{"id":{picture}}} -->\n<figure class="wp-block-image size-large">'
                        f'<img src="{src}" alt="" class="wp-image-{picture}"/><figcaption>'
                        f"{sentence(rng, 9)} Photo: {AGENCIES[n % 5]}</figcaption></figure>\n<!-- /wp:image -->"
                    ))  # fmt: skip
                if n % 10 == 0:
                    pieces.append(
                        '<!-- wp:embed {"url":"https://www.youtube.com/watch?v=abc"} -->\n'
                        '<figure class="wp-block-embed is-provider-youtube"><div class="wp-block-embed__wrapper">\n'
                        "https://www.youtube.com/watch?v=abc\n</div></figure>\n<!-- /wp:embed -->"
                    )
                content = "\n\n".join(pieces)
            else:
                pieces = list(paragraphs)
                if picture:
                    src = f"{BASE}/wp-content/uploads/{attachment_dates[picture][:-4]}-300x200.jpg"
                    pieces.insert(1, (
                        f'[caption id="attachment_{picture}" align="alignnone" width="300"]'
                        f'<img class="size-medium wp-image-{picture}" src="{src}" alt="" width="300" '
                        f'height="200" /> {sentence(rng, 9)} Jane Doe/{AGENCIES[n % 5]}[/caption]'
                    ))  # fmt: skip
                if n % 15 == 0:
                    pieces.append("https://twitter.com/someone/status/12345")
                if n % 25 == 0:
                    pieces.append(
                        f'[gallery ids="{rng.choice(attachment_ids)},{rng.choice(attachment_ids)}"]'
                    )
                if n % 40 == 1:  # odd: a classic post
                    pieces.append('[contact-form-7 id="5" title="Contact"]')
                content = "\n\n".join(pieces)
            status = "publish"
            if n % 50 == 1:
                status = "draft"
            elif n % 97 == 2:
                status = "private"
            elif n == posts - 1:
                status = "future"
            category, parent = CATEGORIES[n % len(CATEGORIES)]
            terms = [("category", category, category.title())]
            terms += [
                ("post_tag", f"t{zlib.crc32(t.encode())}", t)
                for t in rng.sample(tags, rng.randint(2, 5))
            ]
            creator = authors[n % len(authors)][0]
            if n % 10 == 0:
                terms += [("author", f"cap-{creator}", creator),
                          ("author", f"cap-{authors[(n + 7) % 60][0]}", authors[(n + 7) % 60][0])]  # fmt: skip
            meta = [("_edit_last", "1")]
            if picture:
                meta.append(("_thumbnail_id", str(picture)))
            xml.write(
                item_xml(
                    [
                        ("title", cdata(sentence(rng, 8)[:-1])),
                        ("link", f"{BASE}/{when:%Y/%m/%d}/{slug}/"),
                        ("dc:creator", cdata(creator)),
                        ("guid", f"{BASE}/?p={wp_id}"),
                        ("content:encoded", cdata(content)),
                        ("excerpt:encoded", cdata(sentence(rng, 16) if n % 2 else "")),
                        ("wp:post_id", str(wp_id)),
                        ("wp:post_date", cdata(f"{when:%Y-%m-%d %H:%M:%S}")),
                        (
                            "wp:post_date_gmt",
                            cdata(
                                "0000-00-00 00:00:00"
                                if status == "draft"
                                else f"{when - timedelta(hours=1):%Y-%m-%d %H:%M:%S}"
                            ),
                        ),
                        ("wp:post_name", cdata(slug)),
                        ("wp:status", cdata(status)),
                        ("wp:post_parent", "0"),
                        ("wp:post_type", cdata("post")),
                        ("wp:post_password", cdata("secret" if n % 500 == 3 else "")),
                        ("wp:is_sticky", "1" if n % 1000 == 0 else "0"),
                    ],
                    terms=terms,
                    meta=meta,
                )
            )
        xml.write("</channel>\n</rss>\n")
    return out / "export.xml", uploads


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--posts", type=int, default=10000)
    parser.add_argument("--attachments", type=int, default=2000)
    args = parser.parse_args()
    export, uploads = generate(args.out, posts=args.posts, attachments=args.attachments)
    print(f"{export} ({export.stat().st_size / 1e6:.1f} MB), {uploads}")


if __name__ == "__main__":
    main()
