"""Read-side queries of the public site that go beyond one QuerySet method.

Every one starts from `Article.objects.published()`, the one rule of what is public.
"""

from django.db.models import Count, Prefetch, Q

from articles.models import Article, Byline, Note


def article_for_page(slug):
    """The public article with `slug` and what its page shows, in four queries."""
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
        .filter(slug=slug)
        .first()
    )


def related_articles(article, *, tag_ids, limit=4):
    """Articles sharing the most tags with `article`, then the newest of its section."""
    candidates = Article.objects.published().exclude(pk=article.pk).select_related("section")
    if not tag_ids:
        return list(candidates.filter(section_id=article.section_id).newest_first()[:limit])
    return list(
        candidates.filter(Q(tags__in=tag_ids) | Q(section_id=article.section_id))
        .annotate(shared=Count("tags", filter=Q(tags__in=tag_ids), distinct=True))
        .order_by("-shared", "-publish_at", "-pk")[:limit]
    )


def latest_articles(*, exclude=None, limit=5):
    articles = Article.objects.published().select_related("section").newest_first()
    if exclude is not None:
        articles = articles.exclude(pk=exclude.pk)
    return list(articles[:limit])


def public_corrections():
    """Corrections on public articles, newest first."""
    return (
        Note.objects.filter(kind=Note.Kind.CORRECTION, article__in=Article.objects.published())
        .select_related("article", "article__section")
        .order_by("-created_at", "-pk")
    )
