from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from articles import body, seo
from articles.models import Section

register = template.Library()

TEASER_SIZES = "(min-width: 72rem) 22rem, (min-width: 40rem) 45vw, 100vw"
LEAD_STORY_SIZES = "(min-width: 72rem) 44rem, 100vw"
ARTICLE_LEAD_SIZES = "(min-width: 50rem) 42rem, 100vw"


@register.simple_tag
def navigation_sections():
    return list(Section.objects.filter(is_in_navigation=True))


@register.simple_tag
def picture(image, sizes="100vw", lazy=True, priority=False, alt=None):
    """A responsive <picture> (AVIF, WebP, JPEG) with width and height; no caption."""
    if not body.is_showable(image):
        return ""
    return body.picture(image, sizes=sizes, lazy=lazy, priority=priority, alt=alt)


@register.simple_tag
def image_with_credit(
    image, caption=None, sizes="100vw", lazy=True, priority=False, label="Credit", css_class="image"
):
    """The picture, its caption and its credit as visible text."""
    return body.figure(
        image,
        caption=caption,
        sizes=sizes,
        lazy=lazy,
        priority=priority,
        label=label,
        css_class=css_class,
    )


@register.simple_tag
def teaser_image(article, lead=False):
    """A teaser card's photo with its credit ("Top photo credit: …")."""
    image = article.lead_image
    if not body.is_showable(image):
        return ""
    return body.figure(
        image,
        caption="",
        sizes=LEAD_STORY_SIZES if lead else TEASER_SIZES,
        lazy=not lead,
        priority=lead,
        label="Top photo credit",
        css_class="teaser__image",
    )


@register.simple_tag
def json_ld(data):
    """<script type="application/ld+json"> from a dict; `</script>` in a value cannot escape it."""
    return format_html(
        '<script type="application/ld+json">{}</script>', mark_safe(seo.to_script_json(data))
    )


@register.filter
def absolute(url):
    return seo.absolute(str(url))


@register.filter
def body_paragraphs(html, limit=None):
    return body.paragraphs(html, limit=int(limit) if limit else None)


@register.filter
def iso(value):
    """An ISO 8601 time to the second, as HTML's <time datetime> accepts it."""
    return value.isoformat(timespec="seconds") if value else ""
