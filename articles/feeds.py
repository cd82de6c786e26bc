"""RSS 2.0 and Atom feeds: full content, absolute links from SITE_URL, the lead image."""

import contextvars
import mimetypes
import re
from datetime import UTC
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.templatetags.static import static
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Enclosure, Rss201rev2Feed
from django.utils.html import escape

from articles import article_page, body, dependencies, queries
from articles.models import Article, Author, Section
from articles.seo import absolute
from newsroom.pagecache import depends_on

FEED_LENGTH = 30
# The page-cache keys of the items the feed being built shows (feeds are shared objects).
_SHOWN = contextvars.ContextVar("feed_shown")
# Characters XML 1.0 cannot carry at all: one in a title would make the feed unwritable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value):
    return _NOT_XML.sub("", str(value)) if value is not None else value


class CleanTextMixin:
    """Drop characters XML cannot hold from every text the feed carries."""

    def __init__(self, *args, **kwargs):
        super().__init__(
            *map(xml_text, args),
            **{k: xml_text(v) if isinstance(v, str) else v for k, v in kwargs.items()},
        )
        self.feed["categories"] = [xml_text(c) for c in self.feed["categories"] or ()]

    def add_item(self, *args, **kwargs):
        kwargs = {k: xml_text(v) if isinstance(v, str) else v for k, v in kwargs.items()}
        kwargs["categories"] = [xml_text(c) for c in kwargs.get("categories") or ()]
        super().add_item(*map(xml_text, args), **kwargs)


class FullContentRssFeed(CleanTextMixin, Rss201rev2Feed):
    """RSS 2.0 with the whole article in <content:encoded>, a <dc:creator> per author
    and the publication's logo as the channel <image>."""

    def rss_attributes(self):
        return {
            **super().rss_attributes(),
            "xmlns:content": "http://purl.org/rss/1.0/modules/content/",
            "xmlns:dc": "http://purl.org/dc/elements/1.1/",
        }

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        if self.feed.get("logo"):
            handler.startElement("image", {})
            handler.addQuickElement("url", self.feed["logo"])
            handler.addQuickElement("title", self.feed["title"])
            handler.addQuickElement("link", self.feed["link"])
            handler.endElement("image")

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for name, _ in item.get("authors") or ():
            handler.addQuickElement("dc:creator", xml_text(name))
        if item.get("content"):
            handler.addQuickElement("content:encoded", item["content"])


class FullContentAtomFeed(CleanTextMixin, Atom1Feed):
    """Atom with the whole article in <content type="html">, an <author> (with its <uri>)
    per author, and the publication's <icon> and <logo>."""

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        if self.feed.get("icon"):
            handler.addQuickElement("icon", self.feed["icon"])
        if self.feed.get("logo"):
            handler.addQuickElement("logo", self.feed["logo"])

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        for name, uri in item.get("authors") or ():
            handler.startElement("author", {})
            handler.addQuickElement("name", xml_text(name))
            handler.addQuickElement("uri", uri)
            handler.endElement("author")
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "html"})


def permanent_id(article):
    """The article's id for feed readers, which never changes (RFC 4151 tag URI).

    Made from the site's host, the day of first publication and the article's key: a
    new slug, date or section (each moves the URL) keeps the id, so readers never show
    the story twice.
    """
    published = article.first_published_at or article.publish_at
    host = urlsplit(settings.SITE_URL).hostname
    return f"tag:{host},{published.astimezone(UTC):%Y-%m-%d}:article:{article.pk}"


class ArticleFeed(Feed):
    feed_type = FullContentRssFeed
    title = settings.SITE_NAME
    description = f"The latest news, analysis and opinion from {settings.SITE_NAME}."

    url_name = "articles:feed"
    item_guid_is_permalink = False

    @property
    def language(self):
        return settings.LANGUAGE_CODE

    def feed_extra_kwargs(self, obj):
        logo = settings.ORGANIZATION_LOGO_URL or static("img/logo.png")
        return {"icon": absolute(static("favicon.ico")), "logo": absolute(logo)}

    def link(self, obj=None):
        return absolute(reverse("articles:latest"))

    def feed_url(self, obj=None):
        kwargs = {"slug": obj.slug} if obj is not None else {}
        return absolute(reverse(self.url_name, kwargs=kwargs))

    def get_articles(self, obj):
        return Article.objects.published()

    def list_keys(self, obj):
        """The page-cache keys of the list the feed follows (its items add their own)."""
        return ("list",)

    def get_feed(self, obj, request):
        shown = set()
        token = _SHOWN.set(shown)
        try:
            feed = super().get_feed(obj, request)
        finally:
            _SHOWN.reset(token)
        depends_on(request, *self.list_keys(obj), *shown)
        return feed

    def items(self, obj=None):
        articles = queries.with_card_data(self.get_articles(obj).newest_first()[:FEED_LENGTH])
        # Each item's content is kept with its article's page (articles/article_page.py).
        contents, keys = article_page.feed_contents(articles)
        for article in articles:
            article.feed_content = contents[article.pk]
        shown = _SHOWN.get(None)
        if shown is not None:
            shown |= dependencies.of_cards(articles) | keys
        return articles

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        # Feed readers render the description as HTML: the plain-text dek is escaped.
        return escape(item.dek or body.plain_excerpt(item.body))

    def item_link(self, item):
        return absolute(item.get_absolute_url())

    def item_guid(self, item):
        return permanent_id(item)

    def item_author_name(self, item):
        return None  # each author is written by the feed type (item_extra_kwargs)

    def item_pubdate(self, item):
        return item.first_published_at or item.publish_at

    def item_updateddate(self, item):
        return max(filter(None, [item.updated_at, item.publish_at]))

    def item_categories(self, item):
        return [item.section.name]

    def item_enclosures(self, item):
        image = item.lead_image
        if not body.is_showable(image):
            return []
        jpegs = [r for r in body.renditions_of(image) if r.format == "jpeg"]
        file = max(jpegs, key=lambda r: r.width).file if jpegs else image.file
        try:
            length = str(file.size)
        except OSError:
            length = "0"
        mime_type = mimetypes.guess_type(file.name)[0] or "image/jpeg"
        return [Enclosure(absolute(file.url), length, mime_type)]

    def item_extra_kwargs(self, item):
        authors = [
            (author.name, absolute(author.get_absolute_url())) for author in item.ordered_authors
        ]
        return {"content": item.feed_content, "authors": authors}


class LatestFeed(ArticleFeed):
    pass


class LatestAtomFeed(ArticleFeed):
    feed_type = FullContentAtomFeed
    url_name = "articles:feed-atom"
    subtitle = ArticleFeed.description


class SectionFeed(ArticleFeed):
    url_name = "articles:section-feed"

    def get_object(self, request, slug):
        return queries.listing_owner(Section, slug=slug)

    def title(self, obj):
        return f"{obj.name} · {settings.SITE_NAME}"

    def description(self, obj):
        return obj.description or f"The latest from {obj.name} at {settings.SITE_NAME}."

    def link(self, obj):
        return absolute(obj.get_absolute_url())

    def get_articles(self, obj):
        return Article.objects.published().filter(section=obj)

    def list_keys(self, obj):
        return (f"s{obj.pk}", f"list:s{obj.pk}")


class AuthorFeed(ArticleFeed):
    url_name = "articles:author-feed"

    def get_object(self, request, slug):
        return queries.listing_owner(Author, slug=slug)

    def title(self, obj):
        return f"{obj.name} · {settings.SITE_NAME}"

    def description(self, obj):
        return f"Articles by {obj.name} at {settings.SITE_NAME}."

    def link(self, obj):
        return absolute(obj.get_absolute_url())

    def get_articles(self, obj):
        return Article.objects.published().filter(bylines__author=obj)

    def list_keys(self, obj):
        return (f"au{obj.pk}", f"list:au{obj.pk}")
