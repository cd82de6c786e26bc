"""Numbered pages that cost the same on page 1,000 as on page 1.

Django's Paginator counts every row and then fetches the page with a wide
`OFFSET`, carrying whole rows through the sort. Here a narrow subquery walks the
index for the page's primary keys only (`SELECT id … ORDER BY publish_at, id
LIMIT 21 OFFSET n`) and the outer query reads just those rows with their joins: one
query, no count. One extra row tells whether an older page exists. (A deep page of
the latest stream seeks its start instead: articles/queries.py `Listing`.)

"""

from dataclasses import dataclass, field

from django.http import Http404
from django.utils.http import urlencode

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


def paginate(request, queryset, *, per_page, ordering=("-publish_at", "-pk")):
    """The requested page of `queryset` (already filtered, with its joins and prefetches).

    `ordering=None` keeps the queryset's own order and slices it directly.
    """
    number = page_number(request)
    offset = (number - 1) * per_page
    if ordering is None:
        # The queryset's own order (a search ranking): a plain slice of shallow pages.
        rows = list(queryset[offset : offset + per_page + 1])
    else:
        if number == 1:
            rows = list(queryset.order_by(*ordering)[: per_page + 1])
        else:
            ids = queryset.order_by(*ordering).values("pk")[offset : offset + per_page + 1]
            rows = list(queryset.filter(pk__in=ids).order_by(*ordering))
    return _page(request, number, rows, per_page)


def listing_page(request, listing, **values):
    """The requested page of a compiled listing (articles/queries.py `Listing`)."""
    number = page_number(request)
    rows = listing.page(offset=(number - 1) * listing.per_page, **values)
    return _page(request, number, rows, listing.per_page)


def _page(request, number, rows, per_page):
    if not rows and number > 1:
        raise Http404("No such page.")
    return Page(
        number=number,
        object_list=rows[:per_page],
        has_next=len(rows) > per_page,
        path=request.path,
        query={key: value for key, value in request.GET.items() if key in KEPT_PARAMETERS},
    )
