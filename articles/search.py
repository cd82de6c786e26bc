"""Full-text search over published articles.

On PostgreSQL the query uses the stored weighted tsvector column `search_vector`
(title A, dek B, body C) and its GIN index, both from migration 0005; the model does
not declare the column, so it is read here as raw SQL. On SQLite it falls back to a
ranked LIKE match.
"""

import difflib
import html
import json
import re
from datetime import timedelta

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVectorField,
)
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Case, DateTimeField, F, FloatField, Q, Subquery, Value, When
from django.db.models.expressions import Expression, RawSQL
from django.utils.html import escape, strip_tags
from django.utils.safestring import mark_safe

from articles.models import Article, SearchTerm

SEARCH_CONFIG = "english"
# What the generated column `search_vector` holds (migration 0005 freezes a copy).
SEARCH_VECTOR_SQL = (
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(title, '')), 'A') || "
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(dek, '')), 'B') || "
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(body, '')), 'C')"
)
# ts_rank_cd weights of D, C, B (dek), A (title) over `search_head`: see _postgres_search().
RANK_WEIGHTS = [0.0001, 0.0001, 0.03, 1.0]
MAX_QUERY_LENGTH = 200
# SQLite's "did you mean" compares with at most this many words (see _nearest_term).
SUGGESTION_POOL = 20_000
MAX_TERMS = 8
SNIPPET_WORDS = 35
# Body-only matches are read from the newest days first (see RankedResults).
BODY_WINDOWS = (timedelta(days=30), None)
# A results page counts its matches exactly up to this; beyond, it estimates.
COUNT_CAP = 200
# Control characters cannot come from the (tag-stripped) body, so they mark the
# highlights safely: the snippet is escaped first, then they become <mark>.
START, STOP = "\x02", "\x03"


WORD_RE = re.compile(r"[^\W\d_]{3,40}")


def index_terms(*, title, dek):
    """Remember the words of a published headline and dek for "did you mean"."""
    words = set(WORD_RE.findall(f"{title} {dek}".lower()))
    SearchTerm.objects.bulk_create(
        [SearchTerm(word=word) for word in sorted(words)], ignore_conflicts=True
    )


def clean_query(raw):
    """The reader's query, made safe to pass on: no NULs, bounded length, single spaces."""
    text = (raw or "").replace("\x00", " ")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:MAX_QUERY_LENGTH]


def terms_of(query):
    words = re.findall(r"\w+", query)
    return [word for word in words if len(word) > 1][:MAX_TERMS] or words[:MAX_TERMS]


def uses_full_text(using=None):
    """True on PostgreSQL, where articles have the stored `search_vector` column."""
    return connections[using or DEFAULT_DB_ALIAS].vendor == "postgresql"


class StoredVector(Expression):
    """The article table's `search_vector` column, under whatever alias the query gives it.

    Raw SQL naming "articles_article" would point an inner query (a subquery is
    relabelled "U0") at the outer table; this follows relabelling like a field does.
    """

    output_field = SearchVectorField()

    def __init__(self, alias=None):
        super().__init__()
        self.alias = alias

    def resolve_expression(self, query=None, *args, **kwargs):
        resolved = self.copy()
        resolved.alias = query.get_initial_alias()
        return resolved

    def relabeled_clone(self, change_map):
        clone = self.copy()
        clone.alias = change_map.get(self.alias, self.alias)
        return clone

    def as_sql(self, compiler, connection):
        quote = connection.ops.quote_name
        return f"{quote(self.alias)}.{quote('search_vector')}", []


class TitleVector(StoredVector):
    """to_tsvector(title) as the title's GIN expression index (migration 0006) has it."""

    def as_sql(self, compiler, connection):
        quote = connection.ops.quote_name
        column = f"{quote(self.alias)}.{quote('title')}"
        return f"to_tsvector('{SEARCH_CONFIG}'::regconfig, COALESCE({column}, ''))", []


def search_vector():
    """The stored, weighted tsvector column that the GIN index of migration 0005 covers."""
    return StoredVector()


def matching(query, queryset=None):
    """Articles whose title, dek or body contain the words of `query` (PostgreSQL only).

    `query` is read like a web search box: quoted phrases, "or", "-word". Unranked: a
    filter through the GIN index, for the admin as well as the reader site.
    """
    queryset = Article.objects.all() if queryset is None else queryset
    ts_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
    return queryset.alias(search=search_vector()).filter(search=ts_query)


def search(query, queryset=None):
    """Published articles matching `query`, best first: title above dek above body.

    Each result has `snippet`: escaped text with the matched words in <mark>.
    """
    queryset = Article.objects.published() if queryset is None else queryset
    if uses_full_text(queryset.db):
        return _postgres_search(query, queryset)
    return _simple_search(query, queryset)


class HeadVector(StoredVector):
    """The `search_head` column: title (A) and dek (B) only (migration 0008)."""

    def as_sql(self, compiler, connection):
        quote = connection.ops.quote_name
        return f"{quote(self.alias)}.{quote('search_head')}", []


def _postgres_search(query, queryset):
    return RankedResults(query, queryset)


class RankedResults:
    """PostgreSQL results in two tiers, read a page at a time (a slice runs the SQL).

    1. Title and dek matches, through the GIN index of `search_head` (a few dozen
       lexemes stored in the row, so ranking all of them is cheap): title above dek
       (weights far apart), more and closer matches first, then newest.
    2. Then articles that match only in the body, newest first. A common word matches
       thousands of bodies, and reading thousands of rows to sort them by date is what
       made search slow; the newest are taken from the 30 days before the newest
       publication first (the GIN index and the publish-date index together), and
       from all of them only when those are too few. Every body match of a window is newer than any outside it, so the
       order is the same as sorting them all.

    Snippets come from `search_excerpt` (the start of the body as plain text), only
    for the rows a page shows (PostgreSQL evaluates ts_headline after the LIMIT).
    """

    def __init__(self, query, queryset):
        self.query = query
        self.queryset = queryset
        self.ts_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
        headline_sql = (
            "ts_headline(%s::regconfig, coalesce(dek, '') || ' ' || "
            "coalesce(search_excerpt, ''), websearch_to_tsquery(%s::regconfig, %s), %s)"
        )
        options = (
            f"StartSel={START}, StopSel={STOP}, MaxWords={SNIPPET_WORDS}, MinWords=15, "
            "MaxFragments=2"
        )
        self.snippet = RawSQL(headline_sql, [SEARCH_CONFIG, SEARCH_CONFIG, query, options])

    def head_matches(self):
        return self.queryset.alias(head=HeadVector()).filter(head=self.ts_query)

    def body_matches(self):
        return (
            matching(self.query, self.queryset).alias(head=HeadVector()).exclude(head=self.ts_query)
        )

    def ranked_head(self):
        rank = SearchRank(HeadVector(), self.ts_query, weights=RANK_WEIGHTS, cover_density=True)
        return (
            self.head_matches()
            .annotate(rank=rank, raw_snippet=self.snippet)
            .order_by("-rank", "-publish_at", "-pk")
        )

    def __iter__(self):
        """Every result, best first (for tests and scripts; pages take a slice)."""
        head = list(self.ranked_head())
        body = self.body_matches().annotate(raw_snippet=self.snippet)
        return iter(head + list(body.order_by("-publish_at", "-pk")))

    def exists(self):
        return bool(self[0:1])

    def __getitem__(self, bounds):
        start, stop = bounds.start or 0, bounds.stop
        found = list(self.ranked_head()[start:stop])
        wanted = stop - start - len(found)
        if wanted <= 0:
            return found
        in_head = start + len(found) if found or start == 0 else self.head_matches().count()
        skip = max(0, start - in_head)
        body = self.body_matches().annotate(raw_snippet=self.snippet)
        # The newest publication is a subquery (one index probe), not a query of its own.
        newest = Subquery(
            self.queryset.order_by("-publish_at").values("publish_at")[:1],
            output_field=DateTimeField(),
        )
        for days in BODY_WINDOWS:
            window = body if days is None else body.filter(publish_at__gte=newest - days)
            rows = list(window.order_by("-publish_at", "-pk")[skip : skip + wanted])
            if len(rows) == wanted or days is None:
                return found + rows
        return found  # not reached: the last window holds every match

    def count(self, *, cap=None):
        matches = matching(self.query, self.queryset).order_by()
        return (matches[: cap + 1] if cap else matches).count()

    def estimate(self):
        """PostgreSQL's estimate of the matches, from the column's statistics (no row
        is read): within a few percent for the common words that match thousands."""
        plan = matching(self.query, self.queryset).order_by().values("pk").explain(format="json")
        return int(json.loads(plan)[0]["Plan"]["Plan Rows"])


def count(query, queryset=None):
    """(how many published articles match `query`, whether the number is exact).

    Exact up to COUNT_CAP. Beyond, reading every match only to count it would cost
    more than the whole page, so PostgreSQL's estimate is given ("about 5,600"),
    rounded to two significant figures; SQLite counts.
    """
    queryset = Article.objects.published() if queryset is None else queryset
    if not uses_full_text(queryset.db):
        return _simple_search(query, queryset).order_by().count(), True
    results = RankedResults(query, queryset)
    found = results.count(cap=COUNT_CAP)
    if found <= COUNT_CAP:
        return found, True
    estimate = max(results.estimate(), COUNT_CAP + 1)
    return round(estimate, 2 - len(str(estimate))), False


def suggestion(query, queryset=None):
    """A respelling of `query` that finds public articles, or None ("did you mean").

    Each word not known to SearchTerm is replaced by its nearest known word: through
    pg_trgm's similarity and its trigram index on PostgreSQL, difflib over the words
    sharing its first letter elsewhere. The respelling is offered only if it matches.
    """
    queryset = Article.objects.published() if queryset is None else queryset
    words = re.findall(r"\w+", query.lower())[:MAX_TERMS]
    candidates = [word for word in words if len(word) >= 3 and word.isalpha()]
    if not candidates:
        return None
    known = set(SearchTerm.objects.filter(word__in=candidates).values_list("word", flat=True))
    replacements = {}
    for word in candidates:
        if word not in known and (nearest := _nearest_term(word)) is not None:
            replacements[word] = nearest
    if not replacements:
        return None
    respelt = " ".join(replacements.get(word, word) for word in words)
    return respelt if search(respelt, queryset)[:1] else None


def _nearest_term(word):
    if uses_full_text():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT word FROM articles_searchterm WHERE word %% %s "
                "ORDER BY similarity(word, %s) DESC, word LIMIT 1",
                [word, word],
            )
            row = cursor.fetchone()
        return row[0] if row else None
    # SQLite: no trigram index; the words sharing the first letter, compared in Python.
    nearby = SearchTerm.objects.filter(word__startswith=word[0]).values_list("word", flat=True)
    found = difflib.get_close_matches(word, list(nearby[:SUGGESTION_POOL]), n=1, cutoff=0.75)
    return found[0] if found else None


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
    if connection.vendor == "postgresql":
        # ts_headline's excerpt (the body itself is not read on PostgreSQL).
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
