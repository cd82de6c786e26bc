from django import template
from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from articles import body, seo
from articles.cache import current_state, kept, kept_fragment
from articles.models import Article, Section

register = template.Library()

TEASER_SIZES = "(min-width: 72rem) 22rem, (min-width: 40rem) 45vw, 100vw"
LEAD_STORY_SIZES = "(min-width: 72rem) 44rem, 100vw"
TEASER_KEY = "teaser:{generation}:{pk}:{modified}:{lead}:{template}"


def _navigation_links():
    latest = ("Latest", reverse("articles:latest"))
    sections = Section.objects.filter(is_in_navigation=True)
    return [latest, *((section.name, section.get_absolute_url()) for section in sections)]


@register.simple_tag
def site_navigation(current_path):
    """The section navigation, the current page's link marked; every page shows it, so
    it is built once per page-cache generation and current page, not per request."""
    links = kept("navigation-links", _navigation_links, size=lambda links: 100 * len(links))
    current = current_path if any(url == current_path for _, url in links) else None

    def build():
        items = format_html_join(
            "",
            '<li><a href="{}"{}>{}</a></li>',
            (
                (url, mark_safe(' aria-current="page"') if url == current else "", name)
                for name, url in links
            ),
        )
        return format_html(
            '<nav class="site-nav" aria-label="Sections">\n  <ul>\n    {}\n  </ul>\n</nav>',
            items,
        )

    return kept_fragment(f"navigation:{current}", build)


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


def _load_for_cards(articles):
    """Everything a card shows, for the articles a listing read only partly (by pk)."""
    partial = [article.pk for article in articles if article.get_deferred_fields()]
    loaded = Article.objects.for_listing().in_bulk(partial) if partial else {}
    return {article.pk: loaded.get(article.pk, article) for article in articles}


@register.simple_tag
def teaser_block(articles, *, lead_first=False, page_number=1):
    """A listing page's cards as one block of HTML ("" for none), kept as a whole.

    Kept per generation under the cards' article keys and modification times, so a
    page past the page cache costs one kept read once its cards are known; the cards
    themselves are also kept one by one (rendered_teasers) for the other pages that
    show them.
    """
    articles = list(articles)
    if not articles:
        return ""
    lead = bool(lead_first and page_number == 1)
    versions = ",".join(f"{article.pk}:{article.modified_at.timestamp()}" for article in articles)
    return kept_fragment(
        f"cards:{int(lead)}:{versions}",
        lambda: render_to_string(
            "includes/teaser_cards.html",
            {"cards": rendered_teasers(articles, lead_first=lead, page_number=1), "lead": lead},
        ),
    )


def rendered_teasers(
    articles, *, lead_first=False, page_number=1, template_name="includes/teaser.html"
):
    """The teaser cards of a listing as HTML, each kept in the cache between pages.

    A card shows its article, bylines, section and images: the article's own changes
    move `modified_at`, and any other content change starts a new page-cache generation,
    so a kept card is never out of date. One read and at most one write per listing.
    """
    articles = list(articles)
    generation = current_state()["generation"]
    keys = [
        TEASER_KEY.format(
            generation=generation,
            pk=article.pk,
            modified=article.modified_at.timestamp(),
            lead=int(bool(lead_first and index == 0 and page_number == 1)),
            template=template_name,
        )
        for index, article in enumerate(articles)
    ]
    kept = cache.get_many(keys)
    complete = _load_for_cards(
        [article for key, article in zip(keys, articles, strict=True) if key not in kept]
    )
    rendered = {}
    cards = []
    for index, (key, article) in enumerate(zip(keys, articles, strict=True)):
        html = kept.get(key)
        if html is None:
            lead = bool(lead_first and index == 0 and page_number == 1)
            html = render_to_string(template_name, {"article": complete[article.pk], "lead": lead})
            rendered[key] = html
        cards.append(mark_safe(html))
    if rendered:
        cache.set_many(rendered, timeout=settings.CACHE_PAGE_SECONDS)
    return cards
