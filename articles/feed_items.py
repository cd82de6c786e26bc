"""An article as the feeds carry it: its RSS 2.0 `<item>` and its Atom `<entry>`, written
once by Django's feed generators and kept with its page (articles/article_page.py), and
the generators that write a feed's channel around kept items (articles/feeds.py).

Writing an item escapes its whole content (some 10 KB of HTML) as XML text; a feed of
30 items written on each request spent most of its time there.
"""

import mimetypes
import re
from datetime import UTC
from io import StringIO
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.feedgenerator import Atom1Feed, Enclosure, Rss201rev2Feed
from django.utils.html import escape
from django.utils.xmlutils import SimplerXMLGenerator

from articles import body
from articles.seo import absolute

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


class KeptItemsMixin:
    """A feed written around items already written (`kept`: their XML, in order), dated
    by the newest of them (`newest`: the latest publication or update they carry)."""

    kept = ()
    newest = None

    def write_item(self, handler, item):
        """One item's element, as the generator writes it in a whole feed."""
        handler.startElement(self.item_element, self.item_attributes(item))
        self.add_item_elements(handler, item)
        handler.endElement(self.item_element)

    def write_items(self, handler):
        for xml in self.kept:
            handler.ignorableWhitespace(xml)  # written as it is: already XML

    def latest_post_date(self):
        return self.newest or super().latest_post_date()

    def to_string(self):
        out = StringIO()
        self.write(out, "utf-8")
        return out.getvalue()


class FullContentRssFeed(KeptItemsMixin, CleanTextMixin, Rss201rev2Feed):
    """RSS 2.0 with the whole article in <content:encoded>, a <dc:creator> per author
    and the publication's logo as the channel <image>."""

    item_element = "item"

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


class FullContentAtomFeed(KeptItemsMixin, CleanTextMixin, Atom1Feed):
    """Atom with the whole article in <content type="html">, an <author> (with its <uri>)
    per author, and the publication's <icon> and <logo>."""

    item_element = "entry"

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


def published_at(article):
    return article.first_published_at or article.publish_at


def updated_at(article):
    return max(filter(None, [article.updated_at, article.publish_at]))


def newest_date(articles):
    """The latest publication or update the items of `articles` carry (None: no items),
    as Django's generators date a feed (`latest_post_date`)."""
    return max((max(published_at(a), updated_at(a)) for a in articles), default=None)


def items_of(article, *, content, lead_image):
    """(its RSS <item>, its Atom <entry>) of a complete article (its section and bylines
    loaded) whose content is `content` and showable lead image `lead_image` (or None)."""
    item = {
        "title": article.title,
        "link": absolute(article.get_absolute_url()),
        # Feed readers render the description as HTML: the plain-text dek is escaped.
        "description": escape(article.dek or body.plain_excerpt(article.body)),
        "unique_id": permanent_id(article),
        "unique_id_is_permalink": False,
        "enclosures": _enclosures(lead_image),
        "pubdate": published_at(article),
        "updateddate": updated_at(article),
        "categories": [article.section.name],
        # Each author is written by the generator (add_item_elements).
        "authors": [
            (author.name, absolute(author.get_absolute_url())) for author in article.ordered_authors
        ],
        "content": content,
    }
    return tuple(
        _written(generator, item) for generator in (FullContentRssFeed, FullContentAtomFeed)
    )


def _written(generator, item):
    feed = generator(title="", link="", description="")
    feed.add_item(**item)
    out = StringIO()
    feed.write_item(SimplerXMLGenerator(out, "utf-8", short_empty_elements=True), feed.items[0])
    return out.getvalue()


def _enclosures(image):
    """The lead picture as the item's enclosure: its widest JPEG, with its size."""
    if image is None:
        return []
    jpegs = [r for r in body.renditions_of(image) if r.format == "jpeg"]
    file = max(jpegs, key=lambda r: r.width).file if jpegs else image.file
    try:
        length = str(file.size)
    except OSError:
        length = "0"
    mime_type = mimetypes.guess_type(file.name)[0] or "image/jpeg"
    return [Enclosure(absolute(file.url), length, mime_type)]
