"""The article page in parts that are rendered once and kept.

A request that misses the page cache (a reader with a session, or the first reader
after a change) still checks the article in the database and assembles its page, but
the parts that cost the most to build — the article itself with its pictures, the
meta tags and JSON-LD, the latest and related rails — are rendered once per article
version (`modified_at`) and page-cache generation, and kept in the cache. Any change a
part could show (another article published, an author renamed, a picture's credit
edited, a correction added) starts a new generation, so a kept part is never stale.
"""

from django.conf import settings
from django.http import Http404
from django.template.loader import render_to_string

from articles import body, queries, seo
from articles.cache import kept
from articles.richtext import body_image_ids
from newsroom.context_processors import og_locale

PART_TEMPLATES = {
    "meta": "articles/parts/article_meta.html",
    "breadcrumbs": "articles/parts/article_breadcrumbs.html",
    "article": "articles/parts/article_main.html",
    "latest": "articles/parts/article_latest.html",
    "related": "articles/parts/article_related.html",
}


def kept_parts(article):
    """The parts of a public article's page; `article` needs only pk and modified_at."""

    def build():
        complete = queries.article_for_page(pk=article.pk)
        if complete is None:  # unpublished a moment ago
            raise Http404("No such article.")
        return render_parts(complete)

    return kept(
        f"article-parts:{article.pk}:{article.modified_at.timestamp()}",
        build,
        size=lambda parts: sum(len(part) for part in parts.values()),
    )


def render_parts(article):
    """Every part of `article`'s page, freshly rendered (previews use this directly)."""
    context = article_context(article)
    parts = {name: render_to_string(template, context) for name, template in PART_TEMPLATES.items()}
    parts["title"] = article.seo_title or article.title
    parts["description"] = context["description"]
    parts["canonical_url"] = context["canonical_url"]
    return parts


def article_context(article):
    authors = article.ordered_authors
    tags = list(article.tags.all())
    notes = list(article.notes.all())
    related = queries.related_articles(article, tag_ids=[tag.pk for tag in tags])
    latest = queries.latest_articles(exclude=article)
    images = body.load_images(
        {article.lead_image_id}
        | set(body_image_ids(article.body))
        | {other.lead_image_id for other in related}
    )
    lead_image = images.get(article.lead_image_id)
    if lead_image is not None and not body.is_showable(lead_image):
        lead_image = None
    for other in related:
        other.teaser_picture = images.get(other.lead_image_id)
    description = article.seo_description or article.dek or body.plain_excerpt(article.body)
    return {
        "site_name": settings.SITE_NAME,
        "og_locale": og_locale(),
        "share_image": seo.share_image(lead_image) if lead_image is not None else None,
        "article": article,
        "authors": authors,
        "tags": tags,
        "notes": notes,
        "related": related,
        "latest": latest,
        "lead_image": lead_image,
        "caption": article.lead_image_caption or (lead_image.caption if lead_image else ""),
        "body_html": body.render_body(article.body, images),
        "description": description,
        "canonical_url": seo.absolute(article.get_absolute_url()),
        "json_ld": seo.article_json_ld(
            article,
            authors=authors,
            tags=tags,
            notes=notes,
            lead_image=lead_image,
            description=description,
        ),
        "breadcrumbs": seo.breadcrumbs_json_ld(seo.article_breadcrumbs(article)),
    }
