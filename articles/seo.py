"""Structured data for search engines, built from dicts (never by pasting strings)."""

import json

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse

from articles.models import Article, Note

SCHEMA_TYPES = {
    Article.Kind.ANALYSIS: "AnalysisNewsArticle",
    Article.Kind.OPINION: "OpinionNewsArticle",
    Article.Kind.NEWS: "ReportageNewsArticle",
}

# json.dumps output is safe inside <script> once these cannot close or open a tag.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def absolute(url):
    return url if url.startswith(("http://", "https://")) else settings.SITE_URL + url


def to_script_json(data):
    return json.dumps(data, ensure_ascii=False, sort_keys=False).translate(_SCRIPT_ESCAPES)


def image_object(image):
    data = {
        "@type": "ImageObject",
        "url": absolute(image.file.url),
        "contentUrl": absolute(image.file.url),
        "width": image.width,
        "height": image.height,
    }
    if image.caption:
        data["caption"] = image.caption
    if image.credit_line:
        data["creditText"] = image.credit_line
    if image.copyright_notice:
        data["copyrightNotice"] = image.copyright_notice
    if image.license:
        data["license"] = image.license
    return data


def publisher():
    return {
        "@type": "Organization",
        "name": settings.SITE_NAME,
        "url": settings.SITE_URL + "/",
        "logo": {
            "@type": "ImageObject",
            "url": absolute(static("img/logo.png")),
            "width": 600,
            "height": 60,
        },
    }


def article_json_ld(article, *, authors, tags, notes, lead_image, description):
    url = absolute(article.get_absolute_url())
    # A preview of a draft has no publish time yet: its creation stands in.
    published = article.first_published_at or article.publish_at or article.created_at
    modified = max(filter(None, [article.updated_at, article.publish_at]), default=published)
    data = {
        "@context": "https://schema.org",
        "@type": SCHEMA_TYPES.get(article.kind, "NewsArticle"),
        "@id": url,
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "headline": article.title,
        "description": description,
        "datePublished": published.isoformat(),
        "dateModified": modified.isoformat(),
        "author": [
            {"@type": "Person", "name": author.name, "url": absolute(author.get_absolute_url())}
            | ({"jobTitle": author.role} if author.role else {})
            for author in authors
        ],
        "publisher": publisher(),
        "articleSection": article.section.name,
        "keywords": [tag.name for tag in tags],
        "isAccessibleForFree": True,
    }
    if lead_image is not None:
        data["image"] = [image_object(lead_image)]
    corrections = [
        {
            "@type": "CorrectionComment",
            "text": note.text,
            "datePublished": note.created_at.isoformat(),
            "url": absolute(note.get_absolute_url()),
        }
        for note in notes
        if note.kind == Note.Kind.CORRECTION
    ]
    if corrections:
        data["correction"] = corrections
    return data


def breadcrumbs_json_ld(crumbs):
    """`crumbs` is [(name, url), …] from the home page down."""
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": position, "name": name, "item": absolute(url)}
            for position, (name, url) in enumerate(crumbs, start=1)
        ],
    }


def article_breadcrumbs(article):
    return [
        (settings.SITE_NAME, reverse("articles:latest")),
        (article.section.name, article.section.get_absolute_url()),
        (article.title, article.get_absolute_url()),
    ]
