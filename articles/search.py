"""Full-text search over published articles.

On PostgreSQL the query uses the weighted tsvector that the GIN index of migration
0002 covers (title A, dek B, body C). On SQLite it falls back to a ranked LIKE match.
"""

import html
import re

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection
from django.db.models import Case, F, FloatField, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils.html import escape, strip_tags
from django.utils.safestring import mark_safe

from articles.models import Article

SEARCH_CONFIG = "english"
SEARCH_VECTOR_SQL = (
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(title, '')), 'A') || "
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(dek, '')), 'B') || "
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(body, '')), 'C')"
)
MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
SNIPPET_WORDS = 35
# Control characters cannot come from the (tag-stripped) body, so they mark the
# highlights safely: the snippet is escaped first, then they become <mark>.
START, STOP = "\x02", "\x03"


def clean_query(raw):
    """The reader's query, made safe to pass on: no NULs, bounded length, single spaces."""
    text = (raw or "").replace("\x00", " ")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:MAX_QUERY_LENGTH]


def terms_of(query):
    words = re.findall(r"\w+", query)
    return [word for word in words if len(word) > 1][:MAX_TERMS] or words[:MAX_TERMS]


def search_vector():
    """The exact expression the GIN index of migration 0002 covers, so the index is used."""
    return RawSQL(SEARCH_VECTOR_SQL, [], output_field=SearchVectorField())


def search(query, queryset=None):
    """Published articles matching `query`, best first: title above dek above body.

    Each result has `snippet`: escaped text with the matched words in <mark>.
    """
    queryset = Article.objects.published() if queryset is None else queryset
    if connection.vendor == "postgresql":
        return _postgres_search(query, queryset)
    return _simple_search(query, queryset)


def _postgres_search(query, queryset):
    """Match through the GIN index; rank by where the words are, then by recency.

    ts_rank over the whole weighted vector would rebuild every matching body's
    tsvector (seconds on a large archive); testing title and dek alone is cheap and
    gives the order readers expect: title above dek above body.
    """
    ts_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
    tier_sql = (
        "CASE WHEN to_tsvector(%s::regconfig, coalesce(title, '')) "
        "@@ websearch_to_tsquery(%s::regconfig, %s) THEN 3 "
        "WHEN to_tsvector(%s::regconfig, coalesce(dek, '')) "
        "@@ websearch_to_tsquery(%s::regconfig, %s) THEN 2 ELSE 1 END"
    )
    headline_sql = (
        "ts_headline(%s::regconfig, coalesce(dek, '') || ' ' || "
        "left(regexp_replace(coalesce(body, ''), '<[^>]+>', ' ', 'g'), 20000), "
        "websearch_to_tsquery(%s::regconfig, %s), %s)"
    )
    options = (
        f"StartSel={START}, StopSel={STOP}, MaxWords={SNIPPET_WORDS}, MinWords=15, MaxFragments=2"
    )
    return (
        queryset.annotate(search=search_vector())
        .filter(search=ts_query)
        .annotate(
            rank=RawSQL(
                tier_sql, [SEARCH_CONFIG, SEARCH_CONFIG, query] * 2, output_field=FloatField()
            ),
            raw_snippet=RawSQL(headline_sql, [SEARCH_CONFIG, SEARCH_CONFIG, query, options]),
        )
        .order_by("-rank", "-publish_at", "-pk")
    )


def _simple_search(query, queryset):
    terms = terms_of(query)
    if not terms:
        return queryset.none()
    matches = Q()
    in_title = Q()
    in_dek = Q()
    for term in terms:
        matches &= Q(title__icontains=term) | Q(dek__icontains=term) | Q(body__icontains=term)
        in_title &= Q(title__icontains=term)
        in_dek &= Q(dek__icontains=term)
    return (
        queryset.filter(matches)
        .annotate(
            rank=Case(
                When(in_title, then=Value(3.0)),
                When(in_dek, then=Value(2.0)),
                default=Value(1.0),
                output_field=FloatField(),
            ),
            raw_snippet=F("dek"),
        )
        .order_by("-rank", "-publish_at", "-pk")
    )


def highlight(text, terms):
    """Escaped `text` with every whole-word-prefix match of `terms` in <mark>."""
    if not terms:
        return escape(text)
    pattern = re.compile(r"\b(" + "|".join(re.escape(term) for term in terms) + r")", re.I)
    marked = pattern.sub(lambda m: f"{START}{m.group(0)}{STOP}", text)
    return _marks(marked)


def _marks(text):
    return mark_safe(escape(text).replace(START, "<mark>").replace(STOP, "</mark>"))


def snippet_for(article, query):
    """The highlighted snippet of one result (safe HTML)."""
    raw = getattr(article, "raw_snippet", "") or ""
    if connection.vendor == "postgresql" and START in raw:
        return _marks(html.unescape(raw))
    text = " ".join(html.unescape(strip_tags(f"{article.dek} {article.body}")).split())
    terms = terms_of(query)
    lowered = text.lower()
    positions = [lowered.find(term.lower()) for term in terms]
    positions = [position for position in positions if position >= 0]
    start = max(0, min(positions) - 80) if positions else 0
    words = text[start:].split()[:SNIPPET_WORDS]
    excerpt = ("…" if start else "") + " ".join(words if start == 0 else words[1:])
    if len(text[start:].split()) > SNIPPET_WORDS:
        excerpt += "…"
    return highlight(excerpt, terms)
