from django.apps import AppConfig


def tag_slug(tag, name, i=None):
    """Tag slugs like article slugs: transliterated to Latin, never empty.

    taggit's own slugify keeps non-Latin letters ("москва") or yields "" for a name of
    symbols, and neither fits the /tag/<slug>/ URL.
    """
    from articles.slugs import make_slug

    slug = make_slug(name, max_length=90)
    return slug if i is None else f"{slug}-{i}"


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Content"

    def ready(self):
        from taggit.models import Tag

        # taggit's documented override point is TagBase.slugify; the default Tag
        # model is used as it is, so it gets the project's rule here.
        Tag.slugify = tag_slug
        import articles.cards
        import articles.signals  # noqa: F401  (page-cache purges, owned by the reader site)
        from articles.dependencies import Schedule
        from newsroom.pagecache import register_schedule

        register_schedule(Schedule())
