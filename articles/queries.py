"""Read-side queries of the public site that go beyond one QuerySet method.

Every one starts from `Article.objects.published()`, the one rule of what is public.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from taggit.models import TaggedItem

from articles import body
from articles.models import Article, Byline, Note


def article_for_page(**lookup):
    """The public article (by `pk=` or `slug=`) and what its page shows, in four queries."""
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
        .filter(**lookup)
        .first()
    )


def for_cards(articles, *, with_body=True):
    """`articles` with everything a teaser card shows, loading at once (3 queries) those
    that a listing read only partly (its narrow, seekable query of keys). Search results
    show no paragraphs (`with_body=False`): their rows leave the body out.

    As `Article.objects.for_listing()`, but the pictures' renditions are read as plain
    rows (body.attach_renditions): a page of cards has some 240, and model instances
    and the prefetch machinery cost more than the rest of the loading.
    """
    articles = list(articles)
    partial = [article.pk for article in articles if article.get_deferred_fields()]
    loaded = {}
    if partial:
        complete = Article.objects.all() if with_body else Article.objects.defer("body")
        loaded = (
            complete.select_related("section", "lead_image")
            .prefetch_related(
                Prefetch(
                    "bylines",
                    queryset=Byline.objects.select_related("author").order_by("position"),
                )
            )
            .in_bulk(partial)
        )
        body.attach_renditions(article.lead_image for article in loaded.values())
    return [loaded.get(article.pk, article) for article in articles]


def related_articles(article, *, tag_ids, limit=4, candidates=40):
    """Public articles sharing the most tags with `article`, then the newest of its section.

    Ranking happens on taggit's TaggedItem alone (an index scan on the article's few
    tags, grouped by article), so no scan of the article table is needed; only the top
    `candidates` are then checked against `published()` in one query. The section's
    newest fill the remaining places.
    """
    public = Article.objects.published().exclude(pk=article.pk)
    newest_of_section = public.filter(section_id=article.section_id).newest_first()
    candidates_in = newest_of_section.values("pk")[:limit]
    shared = Value(0)
    if tag_ids:
        tagged = TaggedItem.objects.filter(
            content_type=ContentType.objects.get_for_model(Article), tag_id__in=tag_ids
        )
        ranking = (
            tagged.exclude(object_id=article.pk)
            .values("object_id")
            .annotate(shared=Count("pk"))
            .order_by("-shared", "-object_id")
            .values("object_id")[:candidates]
        )
        # Each part of the union is sliced inside its own IN (SQLite refuses sliced
        # parts of a compound statement); PostgreSQL then fetches the few by primary key.
        candidates_in = (
            Article.objects.filter(pk__in=ranking)
            .values("pk")
            .union(Article.objects.filter(pk__in=candidates_in).values("pk"), all=True)
        )
        shared = Coalesce(
            Subquery(
                tagged.filter(object_id=OuterRef("pk"))
                .values("object_id")
                .annotate(shared=Count("pk"))
                .values("shared")
            ),
            0,
        )
    return list(
        public.filter(pk__in=candidates_in)
        .select_related("section")
        .defer("body")
        .annotate(shared=shared)
        .order_by("-shared", "-publish_at", "-pk")[:limit]
    )


def latest_articles(*, exclude=None, limit=5):
    articles = Article.objects.published().select_related("section").newest_first()
    if exclude is not None:
        articles = articles.exclude(pk=exclude.pk)
    return list(articles[:limit])


def front_page_articles():
    """The lead and featured stories the editors chose, in their order, as listing keys
    (a story past its expiry is back in the stream: articles/dependencies.py purges the
    home page at that moment)."""
    now = timezone.now()
    live = Q(front_page_story__expires_at__isnull=True) | Q(front_page_story__expires_at__gt=now)
    return list(
        Article.objects.published(now=now)
        .filter(live, front_page_story__isnull=False)
        .order_by("front_page_story__position", "front_page_story__pk")
        .only("pk", "slug", "title", "publish_at", "modified_at")[
            : 1 + settings.FRONT_PAGE_FEATURED
        ]
    )


def public_corrections():
    """Corrections on public articles, newest first."""
    return (
        Note.objects.filter(kind=Note.Kind.CORRECTION, article__in=Article.objects.published())
        .select_related("article", "article__section")
        .order_by("-created_at", "-pk")
    )


def listing_owner(queryset, *, slug):
    """The section, author or tag a listing shows; else 404."""
    found = queryset.filter(slug=slug).first()
    if found is None:
        raise Http404(f"No such {queryset.model._meta.verbose_name}.")
    return found
