"""Slugs for titles and names: Latin, never empty, unique on demand."""

from anyascii import anyascii
from django.utils.text import slugify


def make_slug(text, *, max_length=200):
    """A Latin slug for any title: "Москва́ 2024" becomes "moskva-2024"."""
    slug = slugify(anyascii(text or ""))[:max_length].strip("-")
    return slug or "untitled"


def unique_slug(text, *, taken, max_length=200):
    """The slug of `text`, suffixed -2, -3… until `taken(slug)` is False."""
    base = make_slug(text, max_length=max_length - 6)
    slug, n = base, 1
    while taken(slug):
        n += 1
        slug = f"{base}-{n}"
    return slug
