"""Structured data for search engines, built from dicts (never by pasting strings)."""

import json

from django.conf import settings
from django.templatetags.static import static

from articles.body import crops_of, is_showable, renditions_of
from articles.links import fixed_url
from articles.models import Article, Note
from newsroom.context_processors import html_lang

SCHEMA_TYPES = {
    Article.Kind.ANALYSIS: "AnalysisNewsArticle",
    Article.Kind.OPINION: "OpinionNewsArticle",
    Article.Kind.NEWS: "ReportageNewsArticle",
}

# json.dumps output is safe inside <script> once these cannot close or open a tag.
# str.replace per character, not str.translate: translate looks up every character of a
# listing's 10 KB of JSON-LD in a dict (0.5 ms); three replaces scan it in C.
_SCRIPT_ESCAPES = (("<", "\\u003C"), (">", "\\u003E"), ("&", "\\u0026"))


def absolute(url):
    return url if url.startswith(("http://", "https://")) else settings.SITE_URL + url


def to_script_json(data):
    text = json.dumps(data, ensure_ascii=False, sort_keys=False)
    for character, escaped in _SCRIPT_ESCAPES:
        text = text.replace(character, escaped)
    return text


# The aspect ratios Google asks an article's images in, widest first (images.CROP_RATIOS).
JSON_LD_CROPS = ("16x9", "4x3", "1x1")
SHARE_CARD_SIZE = (1200, 630)


def _rights(image):
    """What schema.org and Google's licensable images read about an image's rights."""
    data = {}
    if image.credit_line:
        data["creditText"] = image.credit_line
    if image.copyright_notice:
        data["copyrightNotice"] = image.copyright_notice
    if image.license:
        data["license"] = image.license
    if image.acquire_license_page:
        data["acquireLicensePage"] = image.acquire_license_page
    return data


def image_object(image, *, rendition=None):
    """An ImageObject for `image`, or for one of its renditions (a crop) when given."""
    source = rendition or image
    url = absolute(source.file.url)
    data = {
        "@type": "ImageObject",
        "url": url,
        "contentUrl": url,
        "width": source.width,
        "height": source.height,
    }
    if image.caption:
        data["caption"] = image.caption
    return data | _rights(image)


def image_objects(image):
    """The image in each aspect ratio made so far (16:9, 4:3, 1:1), else the original."""
    crops = crops_of(image)
    found = [image_object(image, rendition=crops[c]) for c in JSON_LD_CROPS if c in crops]
    return found or [image_object(image)]


def share_image(image=None):
    """(url, width, height, alt) of the picture a shared link shows.

    The image's 1200 x 630 crop when made, else its largest JPEG; with no image, the
    site's share card (SHARE_IMAGE_URL, else static/img/share.png).
    """
    if image is not None and is_showable(image):
        crop = crops_of(image).get("share")
        if crop is not None:
            return absolute(crop.file.url), crop.width, crop.height, image.alt_text
        jpegs = [r for r in renditions_of(image) if r.format == "jpeg"]
        best = max(jpegs, key=lambda r: r.width) if jpegs else image
        return absolute(best.file.url), best.width, best.height, image.alt_text
    if settings.SHARE_IMAGE_URL:
        return absolute(settings.SHARE_IMAGE_URL), None, None, settings.ORGANIZATION_NAME
    width, height = SHARE_CARD_SIZE
    return absolute(static("img/share.png")), width, height, settings.ORGANIZATION_NAME


def organization_id():
    return settings.SITE_URL + "/#organization"


def website_id():
    return settings.SITE_URL + "/#website"


def publisher():
    """The publisher as schema.org's Organization (logo and social profiles from settings)."""
    if settings.ORGANIZATION_LOGO_URL:
        logo = {"@type": "ImageObject", "url": absolute(settings.ORGANIZATION_LOGO_URL)}
    else:
        logo = {
            "@type": "ImageObject",
            "url": absolute(static("img/logo.png")),
            "width": 600,
            "height": 60,
        }
    data = {
        "@type": "Organization",
        "@id": organization_id(),
        "name": settings.ORGANIZATION_NAME,
        "url": settings.SITE_URL + "/",
        "logo": logo,
    }
    if settings.ORGANIZATION_SAME_AS:
        data["sameAs"] = list(settings.ORGANIZATION_SAME_AS)
    return data


def website_json_ld():
    """The site, with the search box Google can show for it (WebSite + SearchAction)."""
    return {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "@id": website_id(),
        "name": settings.SITE_NAME,
        "url": settings.SITE_URL + "/",
        "inLanguage": html_lang(),
        "publisher": publisher(),
        "potentialAction": {
            "@type": "SearchAction",
            "target": {
                "@type": "EntryPoint",
                "urlTemplate": absolute(fixed_url("articles:search")) + "?q={search_term_string}",
            },
            "query-input": "required name=search_term_string",
        },
    }


def item_list(articles, *, start=1):
    """The articles a listing page shows, in order, as an ItemList of their URLs."""
    return {
        "@type": "ItemList",
        "numberOfItems": len(articles),
        "itemListOrder": "https://schema.org/ItemListOrderDescending",
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": position,
                "url": absolute(article.get_absolute_url()),
                "name": article.title,
            }
            for position, article in enumerate(articles, start=start)
        ],
    }


def collection_page_json_ld(*, name, description, url, articles, start=1):
    """A listing (home, section, tag) as a CollectionPage whose main entity is its list."""
    return {
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "@id": url,
        "url": url,
        "name": name,
        "description": description,
        "inLanguage": html_lang(),
        "isPartOf": {"@id": website_id()},
        "publisher": {"@id": organization_id()},
        "mainEntity": item_list(articles, start=start),
    }


def person(author, *, photo=None):
    """An author as schema.org's Person, with their profiles as sameAs."""
    data = {
        "@type": "Person",
        "@id": absolute(author.get_absolute_url()) + "#person",
        "name": author.name,
        "url": absolute(author.get_absolute_url()),
    }
    if author.role:
        data["jobTitle"] = author.role
    if author.bio:
        data["description"] = author.bio
    if photo is not None and is_showable(photo):
        url, width, height, _ = share_image(photo)
        data["image"] = {"@type": "ImageObject", "url": url, "width": width, "height": height}
    profiles = [
        author.website,
        author.x_url,
        author.bluesky_url,
        author.mastodon_url,
        author.linkedin_url,
    ]
    if any(profiles):
        data["sameAs"] = [profile for profile in profiles if profile]
    data["worksFor"] = {"@id": organization_id()}
    return data


def profile_page_json_ld(author, *, url, photo):
    """An author's page: a ProfilePage about the Person."""
    return {
        "@context": "https://schema.org",
        "@type": "ProfilePage",
        "@id": url,
        "url": url,
        "name": author.name,
        "inLanguage": html_lang(),
        "isPartOf": {"@id": website_id()},
        "mainEntity": person(author, photo=photo),
    }


def item_list_json_ld(articles, *, start=1):
    """The listing's articles as a block of their own (a ProfilePage's main entity is
    the Person)."""
    return {"@context": "https://schema.org", **item_list(articles, start=start)}


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
        "inLanguage": html_lang(),
        "articleSection": article.section.name,
        "keywords": [tag.name for tag in tags],
        "isAccessibleForFree": True,
    }
    if lead_image is not None:
        data["image"] = image_objects(lead_image)
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
        (settings.SITE_NAME, fixed_url("articles:latest")),
        (article.section.name, article.section.get_absolute_url()),
        (article.title, article.get_absolute_url()),
    ]
