"""The article page in its parts: meta tags and JSON-LD, breadcrumbs, the article with
its pictures, and the latest and related rails. Public pages and previews share them."""

from django.conf import settings
from django.template.loader import render_to_string

from articles import body, dependencies, queries, seo
from articles.richtext import body_image_ids
from newsroom.context_processors import og_locale

PART_TEMPLATES = {
    "meta": "articles/parts/article_meta.html",
    "breadcrumbs": "articles/parts/article_breadcrumbs.html",
    "article": "articles/parts/article_main.html",
    "latest": "articles/parts/article_latest.html",
    "related": "articles/parts/article_related.html",
}


def render_parts(article):
    """Every part of `article`'s page, and the page-cache keys of what it shows."""
    context = article_context(article)
    parts = {name: render_to_string(template, context) for name, template in PART_TEMPLATES.items()}
    parts["keys"] = context["keys"]
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
    # The Latest rail is on every article page: it carries neither `list` nor its
    # stories' keys, or one publication or one edit of a recent story would rebuild
    # every article page. A new story or a changed headline reaches it when the page is
    # next rendered (at most CACHE_PAGE_SECONDS later); a story withdrawn from readers
    # leaves at once (`latest`, purged only then).
    keys = {
        "latest",
        f"a{article.pk}",
        f"s{article.section_id}",
        *(f"au{author.pk}" for author in authors),
        *(f"t{tag.pk}" for tag in tags),
        *dependencies.of_images(images),
        *(f"a{other.pk}" for other in related),
    }
    return {
        "keys": keys,
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
