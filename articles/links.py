"""reverse() for the addresses every page repeats, without its per-call resolver work.

A listing's 20 cards link to their articles (several times each), sections and
authors: some 170 reverse() calls, a tenth of a cold listing's render. Addresses of one
pattern differ only by their slug (and an article's by its date), so each pattern is
reversed once per URLconf and script prefix with a placeholder and the address is put
together from the pieces. A value the pattern's converter might refuse goes through
reverse() itself, and a pattern whose shape is not the expected one is never taken
apart, so every address is exactly the string reverse() returns.
"""

import re

from django.urls import get_script_prefix, get_urlconf, reverse

PLACEHOLDER = "placeholder-7f3a9c"
# What Django's `slug` converter accepts and reverse() leaves unquoted.
SLUG_RE = re.compile(r"[-a-zA-Z0-9_]+\Z")
PLACEHOLDER_DATE = {"year": 1000, "month": 10, "day": 10}
_pieces = {}
_fixed = {}


def _split(viewname, kwargs, tail):
    """(head, rest) of the pattern reversed with the placeholder, or None when its address
    does not end as `tail` (then reverse() answers every time)."""
    key = (viewname, get_urlconf(), get_script_prefix())
    if key not in _pieces:
        address = reverse(viewname, kwargs=kwargs)
        _pieces[key] = (address[: -len(tail)], tail) if address.endswith(tail) else None
    return _pieces[key]


def fixed_url(viewname):
    """reverse(viewname) of a pattern without arguments (the same address every time)."""
    key = (viewname, get_urlconf(), get_script_prefix())
    if key not in _fixed:
        _fixed[key] = reverse(viewname)
    return _fixed[key]


def slug_url(viewname, slug):
    """reverse(viewname, kwargs={"slug": slug}) for a pattern whose only argument is the slug."""
    pieces = SLUG_RE.match(slug) and _split(viewname, {"slug": PLACEHOLDER}, f"{PLACEHOLDER}/")
    if not pieces:
        return reverse(viewname, kwargs={"slug": slug})
    return f"{pieces[0]}{slug}/"


def dated_slug_url(viewname, *, year, month, day, slug):
    """reverse() of a `<yyyy:year>/<dd:month>/<dd:day>/<slug:slug>/` pattern."""
    pieces = (
        SLUG_RE.match(slug)
        and 0 <= year <= 9999
        and 0 <= month <= 99
        and 0 <= day <= 99
        and _split(
            viewname, {**PLACEHOLDER_DATE, "slug": PLACEHOLDER}, f"1000/10/10/{PLACEHOLDER}/"
        )
    )
    if not pieces:
        kwargs = {"year": year, "month": f"{month:02d}", "day": f"{day:02d}", "slug": slug}
        return reverse(viewname, kwargs=kwargs)
    return f"{pieces[0]}{year:04d}/{month:02d}/{day:02d}/{slug}/"
