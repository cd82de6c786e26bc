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
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Case, F, FloatField, Q, Value, When
from django.db.models.expressions import Expression
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe

from articles import cards
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
# A snippet starts about this many characters before the first match.
LEAD_CHARS = 80
# Body-only matches are read from the newest days first (see RankedResults). The
# window is wide enough that, for a common query, the head and its body matches
# already pass COUNT_CAP (~28 articles a day at 100k: 150 days hold ~4,000), so the
# page need not count; a window's size changes the cost, never the order.
BODY_WINDOWS = (timedelta(days=150), None)
# A results page counts its matches exactly up to this; beyond, it estimates.
COUNT_CAP = 200
# Title/dek matches ranked together: a query with more (a word common in headlines) ranks
# its newest this many first, then the older ones. One more than COUNT_CAP, so a full
# ranking window settles the count by itself.
HEAD_RANKED = COUNT_CAP + 1
# The newest title/dek matches are looked for in these windows before now, then in all
# (each window is a branch to plan: one is enough): a year holds HEAD_RANKED matches of a
# word in 1.5% of headlines (~14,000 articles a year at 100k). An archive whose newest
# article is older finds them in the last branch.
HEAD_WINDOWS = (timedelta(days=365),)
# Control characters cannot come from the (tag-stripped) body, so they mark the
# highlights safely: the snippet is escaped first, then they become <mark>.
START, STOP = "\x02", "\x03"
MARKED = rf"{START}\g<0>{STOP}"


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
    """The words a result must have (SQLite): the query's words less its exclusions."""
    return _significant(re.findall(r"\w+", " ".join(_split(query)[0])))


def excluded_terms(query):
    """The words of `query` written "-word": no result may have them anywhere."""
    return _significant(re.findall(r"\w+", " ".join(_split(query)[1])))


def _split(query):
    """(words, exclusions) as a web search box reads them: a word starting with "-"."""
    words, excluded = [], []
    for token in query.split():
        (excluded if token.startswith("-") and len(token) > 1 else words).append(token)
    return words, excluded


def _significant(words):
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
       lexemes stored in the row): title above dek (weights far apart), more and
       closer matches first, then newest. Only the newest HEAD_RANKED (201) are ranked
       together: a query with more (a word common in headlines: "ceasefire" has ~3,000
       at 100k) shows those first, ranked, and the older ones after them, ranked, from
       page 11 on (DEEP_SQL). A query with fewer ranks them all, whatever their age.
       A title/dek match must match the whole article too, so an excluded word
       ("-sanctions") excludes it when the body has it.
    2. Then articles that match only in the body, newest first. A common word matches
       thousands of bodies, and reading thousands of rows to sort them by date is what
       made search slow; the newest are taken from the 150 days before the newest
       publication first (the GIN index and the publish-date index together), and
       from all of them only when those are too few. Every body match of a window is
       newer than any outside it, so the order is the same as sorting them all.

    A page is one statement (PAGE_SQL): both tiers, the texts the snippets are cut from
    and the capped count (kept as `counted` for `count()`), built as raw SQL around the
    queryset's compiled WHERE clause rather than as several ORM queries. Snippets are
    cut in Python (`snippet_for`) from the dek and `search_excerpt` (the start of the
    body as plain text), around the words PostgreSQL found to match (MARKED_SQL).
    """

    def __init__(self, query, queryset):
        self.query = query
        self.queryset = queryset
        self._estimate = None  # planned with a first page (results), else by estimate()
        self.ts_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)

    def head_matches(self):
        return (
            matching(self.query, self.queryset).alias(head=HeadVector()).filter(head=self.ts_query)
        )

    def body_matches(self):
        return (
            matching(self.query, self.queryset).alias(head=HeadVector()).exclude(head=self.ts_query)
        )

    def ranked_head(self):
        rank = SearchRank(HeadVector(), self.ts_query, weights=RANK_WEIGHTS, cover_density=True)
        return self.head_matches().annotate(rank=rank).order_by("-rank", "-publish_at", "-pk")

    def __iter__(self):
        """Every result, best first (for tests and scripts; pages take a slice)."""
        total = self.count()
        return iter(self[0:total] if total else ())

    def exists(self):
        return any_match(self.query, self.queryset)

    def __getitem__(self, bounds):
        """A page of results, from one statement (see PAGE_SQL); a second reads older
        body matches only when the window of the newest ones is too short, or the older
        title/dek matches of a deep page (DEEP_SQL)."""
        start, stop = bounds.start or 0, bounds.stop
        where, params = self.where()
        db = self.queryset.db
        now = timezone.now()
        args = {
            **params,
            "config": SEARCH_CONFIG,
            "query": self.query,
            "window": BODY_WINDOWS[0],
            "start": start,
            "wanted": stop - start,
            "cap": COUNT_CAP,
            "ranked": HEAD_RANKED,
            **{f"since{n}": now - window for n, window in enumerate(HEAD_WINDOWS)},
        }
        card, card_params = _current_card()
        with connections[db].cursor() as cursor:
            # The page and the estimate's EXPLAIN in one round trip (see page_statement).
            cursor.execute(page_statement(where, card), {**args, **card_params})
            rows = cursor.fetchall()
            if cursor.cursor.nextset():
                self._estimate = _planned_rows(cursor.fetchone()[0])
        totals = next(row for row in rows if row[0] is None)
        head_total, counted = totals[3], totals[5]
        self.counted = counted
        if head_total == HEAD_RANKED and stop > HEAD_RANKED:
            with connections[db].cursor() as cursor:
                cursor.execute(DEEP_SQL.format(where=where, weights=_WEIGHTS_SQL), args)
                return _results(db, cursor.fetchall())
        found = _results(db, rows)
        wanted = stop - start - len(found)
        if wanted <= 0 or (counted <= COUNT_CAP and counted <= start + len(found)):
            return found
        # Older body matches (the window was too short): all body matches, newest
        # first, after those of this page and of the pages before it.
        in_body = sum(1 for row in rows if row[6] == 1)
        skip = max(0, start - head_total) + in_body
        with connections[db].cursor() as cursor:
            cursor.execute(OLDER_SQL.format(where=where), {**args, "start": skip, "wanted": wanted})
            return found + _results(db, cursor.fetchall())

    def where(self):
        """The queryset's WHERE clause as SQL (compiled once: a page, then its estimate)."""
        if not hasattr(self, "_where"):
            self._where = _public_where(self.queryset)
        return self._where

    def count(self, *, cap=None):
        """min(matches, cap + 1); from the page's own statement when it has run."""
        if cap == COUNT_CAP and getattr(self, "counted", None) is not None:
            return self.counted
        where, params = self.where()
        limit = f"LIMIT {int(cap) + 1}" if cap else ""
        sql = (
            "SELECT count(*) FROM (SELECT 1 FROM articles_article "
            f"WHERE {where} AND {_MATCH} {limit}) AS matches"
        )
        with connections[self.queryset.db].cursor() as cursor:
            cursor.execute(sql, {**params, "config": SEARCH_CONFIG, "query": self.query})
            return cursor.fetchone()[0]

    def estimate(self):
        """PostgreSQL's estimate of the matches, from the column's statistics (no row
        is read): within a few percent for the common words that match thousands.
        A page planned it already, in the same round trip as its own statement."""
        if self._estimate is not None:
            return self._estimate
        where, params = self.where()
        with connections[self.queryset.db].cursor() as cursor:
            cursor.execute(ESTIMATE_SQL.format(where=where), {**params, "query": self.query})
            return _planned_rows(cursor.fetchone()[0])


def _planned_rows(plan):
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


# The raw SQL of a results page. Every statement names the article table unaliased,
# so the WHERE clause of the queryset (compiled by Django) applies inside each part.
_QUERY = f"websearch_to_tsquery('{SEARCH_CONFIG}', %(query)s)"
_MATCH = f'"articles_article"."search_vector" @@ {_QUERY}'
# A query made only of exclusions ("-ceasefire") matches nearly every article and no index
# can find them: ranking ~94,000 rows cost 700 ms at 100k. It finds nothing instead
# (constant, folded when the statement is planned).
_INDEXABLE = f"querytree({_QUERY}) <> 'T'"
# A title/dek match must match as a whole article too when the query excludes a word
# ("ceasefire -sanctions": no "sanctions" in the body either). Without an exclusion a head
# match always is one, and the check folds away when the statement is planned.
_HEAD_MATCH = (
    f'"articles_article"."search_head" @@ {_QUERY} AND '
    f"(strpos({_QUERY}::text, '!') = 0 OR {_MATCH})"
)
_WEIGHTS_SQL = "'{" + ", ".join(str(weight) for weight in RANK_WEIGHTS) + "}'::float4[]"
# What a result's snippet is cut from: the dek, then the start of the body as plain text.
TEXT_SQL = "coalesce(a.dek, '') || ' ' || coalesce(a.search_excerpt, '')"
# The words of the shown texts that the query matches, for Python to highlight (ts_headline
# parsed and stemmed every word of every text: 0.2 ms a result at 100k). Candidates are
# the words that begin like a lexeme of the query (less its last letter, which stemming
# may change: "happy" is 'happi'); a candidate is kept when it stems to one of them.
MARKED_SQL = r"""
lexemes AS MATERIALIZED (
    SELECT words, '(\m(?:' || (
        SELECT string_agg(regexp_replace(
            CASE WHEN length(word) > 2 THEN left(word, -1) ELSE word END,
            '([^[:alnum:]])', '\\\1', 'g'), '|')
        FROM unnest(words) AS word
    ) || ')\w*)' AS pattern
    FROM (SELECT tsvector_to_array(to_tsvector(%(config)s::regconfig, %(query)s)) AS words)
        AS parsed
),
marked AS MATERIALIZED (
    SELECT array_agg(DISTINCT candidate) AS words FROM (
        SELECT lower(found[1]) AS candidate
        FROM shown, lexemes, regexp_matches(shown.text, lexemes.pattern, 'gi') AS found
    ) AS candidates, lexemes
    WHERE tsvector_to_array(to_tsvector(%(config)s::regconfig, candidate)) && lexemes.words
)"""


def _newest_head_sql(windows):
    """The newest HEAD_RANKED title/dek matches: a branch per window of HEAD_WINDOWS, then
    the rest, each read only when the branches before it held too few (the Append stops at
    the LIMIT). The windows end at fixed times the planner can see (`since<n>`), so it can
    pick, per branch, the GIN index alone (a rare word), with the publish-date index (a
    common one) or the publish-date index alone, newest first (a very common one)."""
    column = '"articles_article"."publish_at"'
    bounds = [*(f"%(since{n})s" for n in range(windows)), None]
    branches = []
    for n, bound in enumerate(bounds):
        since = f"AND {column} >= {bound}" if bound else ""
        before = f"AND {column} < {bounds[n - 1]}" if n else ""
        branches.append(
            f"""(SELECT "articles_article"."id", "articles_article"."modified_at",
        {column}, "articles_article"."search_head"
    FROM "articles_article"
    WHERE {{where}} AND {_HEAD_MATCH} AND {_INDEXABLE} {since} {before}
    ORDER BY {column} DESC, "articles_article"."id" DESC
    LIMIT %(ranked)s)"""
        )
    return "\n    UNION ALL\n    ".join(branches)


# One round trip for a page and its count:
# - `recent`: the newest HEAD_RANKED title/dek matches (see _newest_head_sql), ranked on the
#   page: all of them for a query with fewer, so a word common in headlines no longer
#   ranks thousands; a page past them is a deep page (DEEP_SQL);
# - `body`: the body-only matches of the window before the newest publication (the
#   GIN index of `search_vector` and the publish-date index together); read only when
#   the head leaves room on the page or cannot settle the count by itself;
# - `page`: the slice of head-then-body; `shown`: those rows' texts, and `marked`, the
#   words of those texts that the query matches (see MARKED_SQL);
# - the count: min(matches, cap + 1), read from the two tiers when they already hold
#   more than the cap, else counted through the index of `search_vector` (rare words).
# A last row of NULLs carries the totals when the page itself is empty.
PAGE_SQL = f"""
WITH recent AS MATERIALIZED (
    {{newest_head}}
    LIMIT %(ranked)s
),
head_total AS MATERIALIZED (SELECT count(*) AS n FROM recent),
body AS MATERIALIZED (
    SELECT "articles_article"."id", "articles_article"."modified_at",
        "articles_article"."publish_at"
    FROM "articles_article"
    WHERE {{where}} AND {_MATCH} AND {_INDEXABLE}
        AND NOT ("articles_article"."search_head" @@ {_QUERY})
        AND "articles_article"."publish_at" >= (
            SELECT "articles_article"."publish_at" FROM "articles_article"
            WHERE {{where}} ORDER BY "articles_article"."publish_at" DESC LIMIT 1
        ) - %(window)s::interval
),
page AS (
    (SELECT id, modified_at, 0 AS tier,
        ts_rank_cd({{weights}}, search_head, {_QUERY}) AS rank, publish_at
     FROM recent ORDER BY rank DESC, publish_at DESC, id DESC)
    UNION ALL
    (SELECT id, modified_at, 1, 0, publish_at FROM body ORDER BY publish_at DESC, id DESC)
    OFFSET %(start)s LIMIT %(wanted)s
),
shown AS MATERIALIZED (
    SELECT page.*, {TEXT_SQL} AS text, k.search_result AS card, k.keys
    FROM page JOIN "articles_article" a ON a.id = page.id
    LEFT JOIN articles_articlecard k ON k.article_id = a.id AND {{card}}
),
{MARKED_SQL},
-- Every match, read through the GIN index only as far as the capped count below asks
-- (with a plain LIMIT the planner may scan the table instead, reading each row's vector:
-- 40-50 ms at 100,000 articles).
matches AS MATERIALIZED (
    SELECT 1 FROM "articles_article" WHERE {{where}} AND {_MATCH} AND {_INDEXABLE}
),
totals AS MATERIALIZED (
    SELECT head_total.n AS head_total,
        CASE WHEN head_total.n > %(cap)s THEN 0 ELSE (SELECT count(*) FROM body) END
            AS window_total
    FROM head_total
)
SELECT * FROM (
    SELECT id, modified_at, text, NULL::bigint, NULL::bigint, NULL::bigint, tier, card, keys,
        NULL::text[]
    FROM shown ORDER BY tier, rank DESC, publish_at DESC, id DESC
) AS ordered
UNION ALL
SELECT NULL, NULL, NULL, totals.head_total, totals.window_total,
    CASE WHEN totals.head_total + totals.window_total > %(cap)s
        THEN totals.head_total + totals.window_total
        ELSE (SELECT count(*) FROM (SELECT 1 FROM matches LIMIT %(cap)s + 1) AS counted)
    END, NULL, NULL, NULL, (SELECT words FROM marked)
FROM totals
"""
# A page past the newest HEAD_RANKED title/dek matches of a query with more (a word common
# in headlines, page 11 on): those, then the older ones, each ranked, then the body-only
# matches newest first.
DEEP_SQL = f"""
WITH recent AS MATERIALIZED (
    {{newest_head}}
    LIMIT %(ranked)s
),
older AS MATERIALIZED (
    SELECT "articles_article"."id", "articles_article"."modified_at",
        "articles_article"."publish_at",
        ts_rank_cd({{weights}}, "articles_article"."search_head", {_QUERY}) AS rank
    FROM "articles_article"
    WHERE {{where}} AND {_HEAD_MATCH} AND {_INDEXABLE}
        AND ROW("articles_article"."publish_at", "articles_article"."id")
            < (SELECT publish_at, id FROM recent ORDER BY publish_at, id LIMIT 1)
),
page AS MATERIALIZED (
    (SELECT id, modified_at, 0 AS tier,
        ts_rank_cd({{weights}}, search_head, {_QUERY}) AS rank, publish_at
     FROM recent ORDER BY rank DESC, publish_at DESC, id DESC)
    UNION ALL
    (SELECT id, modified_at, 1, rank, publish_at FROM older
     ORDER BY rank DESC, publish_at DESC, id DESC)
    UNION ALL
    (SELECT "articles_article"."id", "articles_article"."modified_at", 2, 0,
        "articles_article"."publish_at"
     FROM "articles_article"
     WHERE {{where}} AND {_MATCH} AND {_INDEXABLE}
        AND NOT ("articles_article"."search_head" @@ {_QUERY})
     ORDER BY "articles_article"."publish_at" DESC, "articles_article"."id" DESC)
    OFFSET %(start)s LIMIT %(wanted)s
),
shown AS MATERIALIZED (
    SELECT page.*, {TEXT_SQL} AS text
    FROM page JOIN "articles_article" a ON a.id = page.id
),
{MARKED_SQL}
SELECT * FROM (
    SELECT id, modified_at, text, NULL::text[] FROM shown
    ORDER BY tier, rank DESC, publish_at DESC, id DESC
) AS ordered
UNION ALL
SELECT NULL, NULL, NULL, words FROM marked
"""


def _compact(sql):
    """`sql` without comments, runs of white space (and the spaces inside brackets and
    after commas: no literal of these statements holds one there) and the table's name
    before its columns (each statement reads one table by that name): psycopg keeps its
    parse of a statement's placeholders only for statements of up to 4 KB (else 1 ms of
    Python a page). The queryset's WHERE clause goes in afterwards (see _public_where)."""
    sql = re.sub(r'"articles_article"\."(\w+)"', r"\1", re.sub(r"--[^\n]*", "", sql))
    sql = re.sub(r"\s+", " ", sql.replace('"articles_article"', "articles_article")).strip()
    return re.sub(r"(?<=[(,]) | (?=\))", "", sql)


PAGE_SQL, DEEP_SQL = (
    _compact(sql.replace("{newest_head}", _newest_head_sql(len(HEAD_WINDOWS))))
    for sql in (PAGE_SQL, DEEP_SQL)
)
# PostgreSQL's estimate of the matches (RankedResults.estimate): a page past the cap
# shows it, so it is planned in the page's own round trip, after the page's statement.
ESTIMATE_SQL = _compact(
    f"EXPLAIN (FORMAT JSON) SELECT 1 FROM articles_article WHERE {{where}} AND {_MATCH}"
)


def page_statement(where, card):
    """A first page's SQL: PAGE_SQL, then ESTIMATE_SQL (two statements, one round trip).
    `card`: the condition under which a kept card `k` of article `a` is current."""
    return f"{PAGE_SQL}; {ESTIMATE_SQL}".format(where=where, weights=_WEIGHTS_SQL, card=card)


def _current_card():
    """(SQL, parameters): when the kept card `k` of the article `a` is current; a page's
    rows carry their search-result cards then (articles/cards.py), so the page needs no
    query of its own for them."""
    condition, params = cards.current_sql("k", cards.version(), article="a")
    names = iter(("card0", "card1"))
    sql = re.sub(r"%s", lambda _: f"%({next(names)})s", condition)
    return sql, dict(zip(("card0", "card1"), params, strict=True))


# Body-only matches older than the window, newest first (deep pages, mid-rare words).
OLDER_SQL = f"""
WITH page AS MATERIALIZED (
    SELECT "articles_article"."id", "articles_article"."modified_at",
        "articles_article"."publish_at"
    FROM "articles_article"
    WHERE {{where}} AND "articles_article"."search_vector" @@ {_QUERY} AND {_INDEXABLE}
        AND NOT ("articles_article"."search_head" @@ {_QUERY})
    ORDER BY "articles_article"."publish_at" DESC, "articles_article"."id" DESC
    OFFSET %(start)s LIMIT %(wanted)s
),
shown AS MATERIALIZED (
    SELECT page.*, {TEXT_SQL} AS text
    FROM page JOIN "articles_article" a ON a.id = page.id
),
{MARKED_SQL}
SELECT * FROM (
    SELECT id, modified_at, text, NULL::text[] FROM shown ORDER BY publish_at DESC, id DESC
) AS ordered
UNION ALL
SELECT NULL, NULL, NULL, words FROM marked
"""


OLDER_SQL = _compact(OLDER_SQL)


def _results(db, rows):
    """The articles of a results page (key and modified time, the rest deferred), each
    with `search_text` and `marked`, the pattern of the words to highlight in it; the
    statement's last row carries those words."""
    words = next(row[-1] for row in rows if row[0] is None) or ()
    marked = _words_pattern(words)
    found = []
    for row in rows:
        if row[0] is not None:
            article = Article.from_db(db, ["id", "modified_at"], row[:2])
            article.search_text, article.marked = row[2], marked
            if len(row) == PAGE_COLUMNS:
                # The kept search-result card, None when it is not current (cards_of).
                card, keys = row[7:9]
                article.kept_card = (
                    None
                    if card is None
                    else cards.Card(row[0], search_result=mark_safe(card), keys=tuple(keys.split()))
                )
            found.append(article)
    return found


# The columns of PAGE_SQL's rows: the others' have no card.
PAGE_COLUMNS = 10


def _words_pattern(words):
    """A regex finding any of `words` as a whole word (None for none)."""
    if not words:
        return None
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


def _public_where(queryset):
    """The WHERE clause of `queryset` as SQL over the unaliased article table, with
    named parameters (a queryset with joins is applied as `id IN (…)`)."""
    query = queryset.query
    compiler = query.get_compiler(using=queryset.db)
    if len(query.alias_map) <= 1 and not query.is_sliced and not query.distinct:
        try:
            sql, params = compiler.compile(query.where)
        except FullResultSet:
            sql, params = "TRUE", []
        except EmptyResultSet:
            sql, params = "FALSE", []
        if "SELECT" not in sql.upper():
            # One table, no subquery: its columns need no table name (shorter statements).
            sql = re.sub(r'"articles_article"\.("\w+")', r"\1", sql)
    else:
        sql, params = compiler.compile(queryset.order_by().values("pk").query)
        sql = f'"articles_article"."id" IN ({sql})'
    # Django's SQL has a %s per parameter (and %% for a literal %): name them.
    parts = sql.split("%s")
    names = [f"w{n}" for n in range(len(params))]
    sql = "".join(
        part + (f"%({names[n]})s" if n < len(names) else "") for n, part in enumerate(parts)
    )
    return sql or "TRUE", dict(zip(names, params, strict=True))


def any_match(query, queryset):
    """Whether any article of `queryset` matches `query` (PostgreSQL)."""
    where, params = _public_where(queryset)
    sql = f"SELECT EXISTS (SELECT 1 FROM articles_article WHERE {where} AND {_MATCH})"
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, {**params, "config": SEARCH_CONFIG, "query": query})
        return cursor.fetchone()[0]


def count(query, queryset=None, *, results=None):
    """(how many published articles match `query`, whether the number is exact).

    Exact up to COUNT_CAP. Beyond, reading every match only to count it would cost
    more than the whole page, so PostgreSQL's estimate is given ("about 5,600"),
    rounded to two significant figures; SQLite counts.
    """
    queryset = Article.objects.published() if queryset is None else queryset
    if not uses_full_text(queryset.db):
        return _simple_search(query, queryset).order_by().count(), True
    if not isinstance(results, RankedResults):
        results = RankedResults(query, queryset)
    found = results.count(cap=COUNT_CAP)
    if found <= COUNT_CAP:
        return found, True
    # The planner's guess can fall below the matches the page already counted (a word of
    # titles only is rare in the statistics of the whole vector): those are certain.
    estimate = max(results.estimate(), found)
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
    if uses_full_text(queryset.db):
        return respelt if any_match(respelt, queryset) else None
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
    for term in excluded_terms(query):
        matches &= ~Q(title__icontains=term) & ~Q(dek__icontains=term) & ~Q(body__icontains=term)
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


def snippet_for(article, query):
    """The snippet of one result (safe HTML): SNIPPET_WORDS words of its dek and body,
    from just before the first match, the matched words in <mark>.

    On PostgreSQL the words to mark are those the statement found to match the query
    (`marked`: stemmed forms, "sanctioned" for "sanctions"); on SQLite, words beginning
    with a word of the query.
    """
    if hasattr(article, "search_text"):
        return _snippet(html.unescape(article.search_text), article.marked)
    text = html.unescape(strip_tags(f"{article.dek} {article.body}"))
    terms = terms_of(query)
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, terms)) + ")", re.I) if terms else None
    return _snippet(text, pattern)


def _snippet(text, pattern):
    found = pattern.search(text) if pattern else None
    start = max(0, found.start() - LEAD_CHARS) if found else 0
    words = text[start:].split(None, SNIPPET_WORDS + 1)
    if start:
        words = words[1:]  # the first may be cut
    excerpt = " ".join(words[:SNIPPET_WORDS])
    if pattern:
        excerpt = pattern.sub(MARKED, excerpt)
    escaped = html.escape(excerpt).replace(START, "<mark>").replace(STOP, "</mark>")
    before = "…" if start else ""
    after = "…" if len(words) > SNIPPET_WORDS else ""
    return mark_safe(f"{before}{escaped}{after}")
