"""Read-side queries of the public site that go beyond one QuerySet method.

Every one starts from `Article.objects.published()`, the one rule of what is public.
"""

import functools

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone
from taggit.models import TaggedItem

from articles import body
from articles.compiled import Compiled
from articles.models import Article, Author, Byline, ListingWeek, Note


def _for_pages():
    return (
        Article.objects.published()
        .select_related("section")
        .prefetch_related(
            Prefetch(
                "bylines", queryset=Byline.objects.select_related("author").order_by("position")
            ),
            "tags",
            "notes",
        )
    )


def article_for_page(**lookup):
    """The public article (by `pk=` or `slug=`) and what its page shows, in four queries."""
    return _for_pages().filter(**lookup).first()


def articles_for_pages(pks):
    """The public articles of `pks` and what their pages and feed items show, in four
    queries (articles/article_page.py draws them)."""
    return list(_for_pages().filter(pk__in=pks))


def for_cards(articles):
    """`articles` with everything their cards show, loading at once (3 queries) those
    that a listing read only partly (its narrow, seekable query of keys)."""
    articles = list(articles)
    partial = [article.pk for article in articles if article.get_deferred_fields()]
    loaded = {}
    if partial:
        rows = with_card_data(Article.objects.filter(pk__in=partial))
        loaded = {article.pk: article for article in rows}
    return [loaded.get(article.pk, article) for article in articles]


def with_card_data(queryset):
    """The articles of `queryset` with everything a card shows, in 3 queries.

    As `Article.objects.for_listing()`, but the pictures' renditions are read as plain
    rows (body.attach_renditions): a page of cards has some 240, and model instances
    and the prefetch machinery cost more than the rest of the loading.
    """
    articles = list(
        queryset.select_related("section", "lead_image").prefetch_related(
            Prefetch(
                "bylines", queryset=Byline.objects.select_related("author").order_by("position")
            )
        )
    )
    body.attach_renditions(article.lead_image for article in articles)
    return articles


NEWEST_FIRST = ("-publish_at", "-pk")
# What a listing reads of its rows: its cards are kept (articles/cards.py).
LISTING_FIELDS = ("pk", "slug", "title", "publish_at", "modified_at")


def _front_page(now):
    live = Q(front_page_story__expires_at__isnull=True) | Q(front_page_story__expires_at__gt=now)
    return (
        Article.objects.published(now=now)
        .filter(live, front_page_story__isnull=False)
        .order_by("front_page_story__position", "front_page_story__pk")
        .only(*LISTING_FIELDS)[: 1 + settings.FRONT_PAGE_FEATURED]
    )


PUBLISHED = Compiled(lambda now: Article.objects.published(now=now), where=True)
FRONT_PAGE = Compiled(_front_page)


# A deep page of the latest stream seeks its start (Listing._seek) from this offset on;
# a shallower one walks the index from the newest article, which costs less than the seek.
SEEK_FROM = 2_000
WEEK_SECONDS = 7 * 24 * 60 * 60  # ListingWeek's weeks (migration 0014)


class Listing(Compiled):
    """Public articles newest first, a page at a time, as rows holding LISTING_FIELDS:
    `narrow(public, now, **values)` keeps a listing's own (None: every one).

    One query: a narrow subquery walks the publish-order index for the page's keys only
    (`SELECT id … LIMIT per_page + 1 OFFSET n`, so page 1,000 costs what page 1 does
    but for the walk), the outer one reads those rows; the extra row tells whether an
    older page exists. On PostgreSQL a deep page of the whole stream (no `narrow`, from
    SEEK_FROM rows on) seeks its start instead of walking to it (`_seek`): page 2,000
    walked 40,000 index entries, some 5 ms.

    `leaving_out`: at most this many of the listing's articles are left out of it (the
    home stream leaves out the front page's). They are taken away here, not by the
    walk: a test on each of the 40,000 index entries page 2,000 walks took longer than
    the walk itself. The page's window is that many rows wider.
    """

    def __init__(self, narrow=None, *, per_page, values=(), leaving_out=0):
        self.narrow = narrow
        self.per_page = per_page
        self.leaving_out = leaving_out
        super().__init__(self._listing, values=("offset", *values))

    def _listing(self, now, offset, **values):
        public = Article.objects.published(now=now)
        if self.narrow is not None:
            public = self.narrow(public, now=now, **values)
        end = offset + self.per_page + 1 + self.leaving_out
        keys = public.order_by(*NEWEST_FIRST).values("pk")[offset:end]
        return Article.objects.filter(pk__in=keys).only(*LISTING_FIELDS).order_by(*NEWEST_FIRST)

    def sql(self, *, using="default", now=None, **values):
        if (
            self.narrow is None
            and values["offset"] >= SEEK_FROM
            and connections[using].vendor == "postgresql"
        ):
            return self._seek(using=using, now=now, **values)
        return super().sql(using=using, now=now, **values)

    def _seek(self, *, using, now, offset):
        """The page's SQL on PostgreSQL for a deep page: its start sought by the weekly
        counts of public-status articles (ListingWeek, kept by triggers) and walked
        from the start of its week, not from the newest article.

        In the public index's order (publish time, then key, newest first; no time
        condition) the articles not public yet come first: the listing's row `offset`
        is the index's row `offset + (how many publish after now)`. The newest week
        whose running count (newest first) passes that row holds it; the walk starts
        at that week's end and skips the index rows between it and the page. One
        statement, so one snapshot of the counts and the articles.
        """
        moment = connections[using].ops.adapt_datetimefield_value(now or timezone.now())
        window = self.per_page + 1 + self.leaving_out
        statuses = Article.PUBLIC_STATUSES
        return self._seek_sql(using), [offset, *statuses, moment, *statuses, window]

    @functools.cache  # noqa: B019 (listings are module constants: nothing is kept alive)
    def _seek_sql(self, using):
        """`_seek`'s statement, built once per listing and database, as `Compiled` does."""
        _, _, _, _, _, names = self._compiled(using)
        table = Article._meta.db_table
        fields = {field.attname: field.column for field in Article._meta.concrete_fields}
        columns = ", ".join(f'"{table}"."{fields[name]}"' for name in names)
        statuses = ", ".join(["%s"] * len(Article.PUBLIC_STATUSES))
        public = f"status IN ({statuses})"
        return (
            "WITH anchor AS MATERIALIZED ("
            "SELECT counted.week, ahead.at - counted.before AS skip FROM ("
            "SELECT week, articles, SUM(articles) OVER (ORDER BY week DESC) - articles AS before "
            f"FROM {ListingWeek._meta.db_table}) counted, "
            f"(SELECT COUNT(*) + %s AS at FROM {table} WHERE {public} AND publish_at > %s) ahead "
            "WHERE counted.before + counted.articles > ahead.at "
            "ORDER BY counted.week DESC LIMIT 1) "
            f"SELECT {columns} FROM {table} WHERE id IN ("
            f"SELECT id FROM {table} WHERE {public} AND publish_at < "
            f"to_timestamp(((SELECT week FROM anchor) + 1) * {WEEK_SECONDS}) "
            "ORDER BY publish_at DESC, id DESC LIMIT %s OFFSET (SELECT skip FROM anchor)) "
            f'ORDER BY "{table}"."publish_at" DESC, "{table}"."id" DESC'
        )

    def page(self, *, offset, left_out=(), now=None, **values):
        """The `per_page + 1` rows from `offset` of the listing without `left_out` (at
        most `leaving_out` of its own articles, read as of the same `now`)."""
        rows = self.models(offset=offset, now=now, **values)
        if not self.leaving_out:
            return rows
        if len(left_out) > self.leaving_out:
            raise ValueError(f"{len(left_out)} left out of a window {self.leaving_out} rows wider")
        gone = {article.pk for article in left_out}
        # The walk started `offset` rows in, counting the left-out ones newer than its
        # first row: as many rows of the page lie further on.
        before = (
            sum((a.publish_at, a.pk) > (rows[0].publish_at, rows[0].pk) for a in left_out)
            if rows
            else 0
        )
        kept = [row for row in rows if row.pk not in gone]
        return kept[before : before + self.per_page + 1]


def published_sql():
    """`Article.objects.published()` as an SQL condition on the article table (named by
    its own name, not an alias) and its parameters: the one rule of what is public, for
    the few queries written in SQL because building them through the ORM cost more
    than running them."""
    return PUBLISHED.sql(using=connection.alias)


def related_articles(article, *, tag_ids, limit=4, candidates_limit=40):
    """Public articles sharing the most tags with `article`, then the newest of its section,
    as rows holding only their key (for articles/cards.py), in one query.

    Ranking happens on taggit's TaggedItem alone (an index scan on the article's few
    tags, grouped by article), so no scan of the article table is needed; only the top
    `candidates_limit` and the section's newest are checked against what is public. Raw
    SQL: the statement is simple, and building it through the ORM (a union, a subquery
    per row) cost four times more than running it.
    """
    articles, tagged = Article._meta.db_table, TaggedItem._meta.db_table
    public, public_params = published_sql()
    newest = (
        f"SELECT id FROM {articles} WHERE section_id = %s AND id <> %s AND {public} "
        "ORDER BY publish_at DESC, id DESC LIMIT %s"
    )
    newest_params = [article.section_id, article.pk, *public_params, limit]
    if tag_ids:
        content_type = ContentType.objects.get_for_model(Article).pk
        tags = ", ".join(["%s"] * len(tag_ids))
        ranked = (
            f"SELECT object_id FROM {tagged} WHERE content_type_id = %s AND tag_id IN ({tags}) "
            "AND object_id <> %s GROUP BY object_id ORDER BY COUNT(*) DESC, object_id DESC "
            "LIMIT %s"
        )
        candidates = f"SELECT * FROM ({ranked}) ranked UNION ALL SELECT * FROM ({newest}) newest"
        params = [content_type, *tag_ids, article.pk, candidates_limit, *newest_params]
        shared = (
            f"(SELECT COUNT(*) FROM {tagged} t WHERE t.content_type_id = %s "
            f"AND t.tag_id IN ({tags}) AND t.object_id = {articles}.id) DESC, "
        )
        shared_params = [content_type, *tag_ids]
    else:
        candidates, params, shared, shared_params = newest, newest_params, "", []
    sql = (
        f"SELECT id FROM {articles} WHERE id IN ({candidates}) AND {public} "
        f"ORDER BY {shared}publish_at DESC, id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *public_params, *shared_params, limit])
        return [Article.from_db(None, ["id"], [pk]) for (pk,) in cursor.fetchall()]


def latest_articles(*, exclude=None, limit=5):
    """The newest public articles as rows holding only their key (for articles/cards.py),
    in SQL as related_articles."""
    public, public_params = published_sql()
    sql = (
        f"SELECT id FROM {Article._meta.db_table} WHERE {public} AND id <> %s "
        "ORDER BY publish_at DESC, id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*public_params, exclude.pk if exclude else 0, limit])
        return [Article.from_db(None, ["id"], [pk]) for (pk,) in cursor.fetchall()]


def front_page_articles(now=None):
    """The lead and featured stories the editors chose, in their order, as listing keys
    (a story past its expiry is back in the stream: articles/dependencies.py purges the
    home page at that moment)."""
    return FRONT_PAGE.models(now=now)


# How many stories the front page shows above the stream (which leaves them out).
FRONT_PAGE_SIZE = 1 + settings.FRONT_PAGE_FEATURED


def public_corrections():
    """Corrections on public articles, newest first."""
    return (
        Note.objects.filter(kind=Note.Kind.CORRECTION, article__in=Article.objects.published())
        .select_related("article", "article__section")
        .order_by("-created_at", "-pk")
    )


@functools.cache
def _by_slug(model):
    return Compiled(lambda now, slug: model.objects.filter(slug=slug)[:1], texts=("slug",))


def listing_owner(model, *, slug):
    """The section, author or tag (`model`) a listing shows; else 404."""
    found = _by_slug(model).models(slug=slug)
    if not found:
        raise Http404(f"No such {model._meta.verbose_name}.")
    return found[0]


AUTHOR_FIELDS = [field.attname for field in Author._meta.concrete_fields]
# The author with each rendition of their photo, a row per rendition (one row without).
AUTHOR_WITH_PHOTO = Compiled(
    lambda now, slug: (
        Author.objects.filter(slug=slug)
        .order_by(
            "photo__renditions__crop", "photo__renditions__format", "photo__renditions__width"
        )
        .values_list(
            *AUTHOR_FIELDS,
            *(f"photo__{name}" for name in body.IMAGE_FIELDS),
            *(f"photo__renditions__{name}" for name in body.ROW_FIELDS),
        )
    ),
    texts=("slug",),
)


def author_with_photo(slug):
    """(the author at `slug`, their photo with its renditions or None) in one query; else 404."""
    rows = AUTHOR_WITH_PHOTO.tuples(slug=slug)
    if not rows:
        raise Http404("No such author.")
    split = len(AUTHOR_FIELDS)
    author = Author.from_db("default", AUTHOR_FIELDS, rows[0][:split])
    photos = body.images_from_rows([row[split:] for row in rows if row[split] is not None])
    return author, photos.get(author.photo_id)
