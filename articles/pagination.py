"""Numbered pages that cost the same on page 1,000 as on page 1.

Django's Paginator counts every row and then fetches the page with a wide
`OFFSET`, carrying whole rows through the sort. Here a narrow subquery walks the
index for the page's primary keys only (`SELECT id … ORDER BY publish_at, id
LIMIT 21 OFFSET n`) and the outer query reads just those rows with their joins: one
query, no count. One extra row tells whether an older page exists.

Listings go further (`remember_boundaries=True`): each page remembers, under the
page-cache generation, the sort key of its first row and of the next page's first row
(the extra row). A page whose start is known is read by seeking the index to that key
(`WHERE (publish_at, id) <= (…) LIMIT 21`), which costs the same on page 2,000 as on
page 1; a reader or crawler walking the pages in order never pays an OFFSET, and a jump
straight to a deep page pays it once per generation. Any content change starts a new
generation, so a remembered start is never out of date.
"""

import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.http import Http404
from django.utils.http import urlencode

from articles.cache import current_state

MAX_PAGE = 100_000
# Query parameters that page links carry over (anything else is dropped).
KEPT_PARAMETERS = ("q",)


def page_number(request, *, name="page"):
    """The requested page as a positive int; anything malformed is a 404, never a 500."""
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return 1
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise Http404("No such page.")
    number = int(raw)
    if not 1 <= number <= MAX_PAGE:
        raise Http404("No such page.")
    return number


@dataclass
class Page:
    number: int
    object_list: list
    has_next: bool
    path: str = ""
    query: dict = field(default_factory=dict)

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def has_other_pages(self):
        return self.has_previous or self.has_next

    def _url(self, number):
        params = {key: value for key, value in self.query.items() if key != "page"}
        if number > 1:
            params["page"] = number
        return f"{self.path}?{urlencode(params)}" if params else self.path

    @property
    def next_url(self):
        return self._url(self.number + 1)

    @property
    def previous_url(self):
        return self._url(self.number - 1)

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


def paginate(
    request, queryset, *, per_page, ordering=("-publish_at", "-pk"), remember_boundaries=False
):
    """The requested page of `queryset` (already filtered, with its joins and prefetches).

    `ordering=None` keeps the queryset's own order and slices it directly. With
    `remember_boundaries`, the page's start is looked up and kept (see the module's
    docstring); the queryset must then depend on nothing but the request's path.
    """
    number = page_number(request)
    offset = (number - 1) * per_page
    if ordering is None:
        # The queryset's own order (a search ranking): a plain slice of shallow pages.
        rows = list(queryset[offset : offset + per_page + 1])
    else:
        boundaries = Boundaries(request.path, ordering, number) if remember_boundaries else None
        start = boundaries.start if boundaries else None
        if number == 1:
            rows = list(queryset.order_by(*ordering)[: per_page + 1])
        elif start is not None:
            rows = list(
                queryset.filter(boundaries.at_or_after(start)).order_by(*ordering)[: per_page + 1]
            )
        else:
            ids = queryset.order_by(*ordering).values("pk")[offset : offset + per_page + 1]
            rows = list(queryset.filter(pk__in=ids).order_by(*ordering))
        if boundaries and rows:
            boundaries.remember(rows, per_page)
    if not rows and number > 1:
        raise Http404("No such page.")
    return Page(
        number=number,
        object_list=rows[:per_page],
        has_next=len(rows) > per_page,
        path=request.path,
        query={key: value for key, value in request.GET.items() if key in KEPT_PARAMETERS},
    )


class Boundaries:
    """Where page `number` of one listing starts, and the next page, as sort keys."""

    KEY = "pages:{generation}:start:{listing}:{number}"

    def __init__(self, path, ordering, number):
        self.generation = current_state()["generation"]
        self.listing = hashlib.md5(path.encode(), usedforsecurity=False).hexdigest()
        self.fields = [(name.lstrip("-"), name.startswith("-")) for name in ordering]
        self.number = number
        # One read for both: this page's start, and whether the next one's is known.
        known = cache.get_many([self._key(number), self._key(number + 1)])
        self.start = known.get(self._key(number))
        self.next_known = self._key(number + 1) in known

    def _key(self, number):
        return self.KEY.format(generation=self.generation, listing=self.listing, number=number)

    def remember(self, rows, per_page):
        """Keep what this page learnt: its own start and the next page's (the extra row)."""
        starts = {}
        if self.start is None and self.number > 1:
            starts[self._key(self.number)] = self._sort_key(rows[0])
        if len(rows) > per_page and not self.next_known:
            starts[self._key(self.number + 1)] = self._sort_key(rows[per_page])
        if starts:
            cache.set_many(starts, timeout=settings.CACHE_PAGE_SECONDS)
        self.next_known = True

    def _sort_key(self, row):
        return tuple(getattr(row, name) for name, _ in self.fields)

    def at_or_after(self, start):
        """Rows at `start` or later in the listing's order, as one condition.

        The leading field's bound is repeated outside the OR so the database can start
        its index scan there instead of filtering the whole index.
        """
        condition = Q()
        for position in reversed(range(len(self.fields))):
            name, descending = self.fields[position]
            if position == len(self.fields) - 1:
                condition = Q(**{f"{name}__{'lte' if descending else 'gte'}": start[position]})
            else:
                beyond = Q(**{f"{name}__{'lt' if descending else 'gt'}": start[position]})
                condition = beyond | (Q(**{name: start[position]}) & condition)
        name, descending = self.fields[0]
        return Q(**{f"{name}__{'lte' if descending else 'gte'}": start[0]}) & condition
