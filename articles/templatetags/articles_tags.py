from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from articles import body, seo
from articles.compiled import Compiled
from articles.links import fixed_url, slug_url
from articles.models import Section

register = template.Library()

TEASER_SIZES = "(min-width: 72rem) 22rem, (min-width: 40rem) 45vw, 100vw"
LEAD_STORY_SIZES = "(min-width: 72rem) 44rem, 100vw"


NAVIGATION = Compiled(
    lambda now: Section.objects.filter(is_in_navigation=True).values_list("name", "slug")
)


def _navigation_links():
    latest = ("Latest", reverse("articles:latest"))
    sections = NAVIGATION.rows()
    return [latest, *((name, slug_url("articles:section-detail", slug)) for name, slug in sections)]


@register.simple_tag
def site_navigation(current_path):
    """The section navigation, the current page's link marked (every page carries the
    page-cache key `nav`, purged when a section changes)."""
    links = _navigation_links()
    items = format_html_join(
        "",
        '<li><a href="{}"{}>{}</a></li>',
        (
            (url, mark_safe(' aria-current="page"') if url == current_path else "", name)
            for name, url in links
        ),
    )
    return format_html(
        '<nav class="site-nav" aria-label="Sections">\n  <ul>\n    {}\n  </ul>\n</nav>',
        items,
    )


@register.simple_tag
def link(viewname, slug=None):
    """{% url %} for the addresses every page repeats: a fixed one, or one taking a slug
    (articles/links.py puts them together without reverse()'s work each time)."""
    return fixed_url(viewname) if slug is None else slug_url(viewname, slug)


@register.simple_tag
def picture(image, sizes="100vw", lazy=True, priority=False, alt=None):
    """A responsive <picture> (AVIF, WebP, JPEG) with width and height; no caption."""
    if not body.is_showable(image):
        return ""
    return body.picture(image, sizes=sizes, lazy=lazy, priority=priority, alt=alt)


@register.simple_tag
def image_with_credit(
    image, caption=None, sizes="100vw", lazy=True, priority=False, label="Photo", css_class="image"
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
    """An ISO 8601 time to the second in the site's zone (TIME_ZONE), for <time datetime>."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.isoformat(timespec="seconds")


@register.filter
def updated_after(updated, published):
    """The update time when it is later than publication, else None."""
    return updated if updated and published and updated > published else None


@register.simple_tag
def teaser_block(cards, *, lead_first=False, page_number=1):
    """A listing page's cards (articles/cards.py) as one block of HTML ("" for none)."""
    if not cards:
        return ""
    lead = bool(lead_first and page_number == 1)
    html = [
        card.lead_teaser if lead and index == 0 else card.teaser for index, card in enumerate(cards)
    ]
    return mark_safe(render_to_string("includes/teaser_cards.html", {"cards": html, "lead": lead}))
