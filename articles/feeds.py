"""RSS 2.0 and Atom feeds: full content, absolute links from SITE_URL, the lead image.

A feed is written from kept items: one query finds its newest public articles (their
keys and dates), one reads their items, kept written with each article's page
(articles/feed_items.py, articles/article_page.py); only the items not kept are drawn.
The channel around them is written by the same generators on each request.
"""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import http_date

from articles import article_page, queries
from articles.compiled import Compiled
from articles.feed_items import FullContentAtomFeed, FullContentRssFeed, newest_date
from articles.models import Article, Author, Section
from articles.seo import absolute
from newsroom.pagecache import depends_on

FEED_LENGTH = 30
# What a feed reads of its articles: their keys and the dates that date the feed.
FEED_FIELDS = ("pk", "publish_at", "first_published_at", "updated_at")
GENERATORS = {"rss": FullContentRssFeed, "atom": FullContentAtomFeed}


def _newest(narrow=None, *, values=()):
    """The newest FEED_LENGTH public articles (narrowed by `narrow(public, **values)`),
    as rows holding FEED_FIELDS, compiled once."""

    def build(now, **given):
        public = Article.objects.published(now=now)
        if narrow is not None:
            public = narrow(public, **given)
        return public.order_by(*queries.NEWEST_FIRST).only(*FEED_FIELDS)[:FEED_LENGTH]

    return Compiled(build, values=values)


NEWEST = _newest()
NEWEST_OF_SECTION = _newest(
    lambda public, owner: public.filter(section_id=owner), values=("owner",)
)
NEWEST_OF_AUTHOR = _newest(
    lambda public, owner: public.filter(bylines__author_id=owner), values=("owner",)
)


@dataclass(frozen=True)
class Channel:
    """What a feed says of itself, and the page-cache keys of the list it follows (its
    items add their own)."""

    title: str
    link: str
    description: str
    url: str
    keys: tuple = ("list",)
    subtitle: str | None = None


def site_channel(url_name, *, subtitle=False):
    description = f"The latest news, analysis and opinion from {settings.SITE_NAME}."
    return Channel(
        title=settings.SITE_NAME,
        link=absolute(reverse("articles:latest")),
        description=description,
        url=absolute(reverse(url_name)),
        subtitle=description if subtitle else None,
    )


def feed_response(request, kind, channel, newest, **values):
    """The feed of `kind` ("rss" or "atom"): the articles `newest` finds (given `values`)
    as their kept items, in `channel`."""
    articles = newest.models(**values)
    items, keys = article_page.kept_feed_items(articles, kind)
    depends_on(request, *channel.keys, *keys)
    shown = [article for article in articles if article.pk in items]
    logo = settings.ORGANIZATION_LOGO_URL or static("img/logo.png")
    feed = GENERATORS[kind](
        title=channel.title,
        subtitle=channel.subtitle,
        link=channel.link,
        description=channel.description,
        language=settings.LANGUAGE_CODE,
        feed_url=channel.url,
        icon=absolute(static("favicon.ico")),
        logo=absolute(logo),
    )
    feed.kept = [items[article.pk] for article in shown]
    feed.newest = newest_date(shown)
    response = HttpResponse(feed.to_string().encode(), content_type=feed.content_type)
    # As Django's syndication views date a feed (a shared copy is dated by its render).
    response["Last-Modified"] = http_date(feed.latest_post_date().timestamp())
    return response


def latest_feed(request):
    return feed_response(request, "rss", site_channel("articles:feed"), NEWEST)


def latest_atom_feed(request):
    return feed_response(request, "atom", site_channel("articles:feed-atom", subtitle=True), NEWEST)


def section_feed(request, slug):
    section = queries.listing_owner(Section, slug=slug)
    channel = Channel(
        title=f"{section.name} · {settings.SITE_NAME}",
        link=absolute(section.get_absolute_url()),
        description=section.description
        or f"The latest from {section.name} at {settings.SITE_NAME}.",
        url=absolute(reverse("articles:section-feed", kwargs={"slug": section.slug})),
        keys=(f"s{section.pk}", f"list:s{section.pk}"),
    )
    return feed_response(request, "rss", channel, NEWEST_OF_SECTION, owner=section.pk)


def author_feed(request, slug):
    author = queries.listing_owner(Author, slug=slug)
    channel = Channel(
        title=f"{author.name} · {settings.SITE_NAME}",
        link=absolute(author.get_absolute_url()),
        description=f"Articles by {author.name} at {settings.SITE_NAME}.",
        url=absolute(reverse("articles:author-feed", kwargs={"slug": author.slug})),
        keys=(f"au{author.pk}", f"list:au{author.pk}"),
    )
    return feed_response(request, "rss", channel, NEWEST_OF_AUTHOR, owner=author.pk)
