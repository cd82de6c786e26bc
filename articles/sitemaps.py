"""Sitemaps for search engines: /sitemap.xml and the Google News /news-sitemap.xml."""

import io
import math
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Count, Max, Q
from django.db.models.functions import Coalesce, Greatest
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.xmlutils import SimplerXMLGenerator
from taggit.models import Tag

from articles.feed_items import xml_text
from articles.models import Article, Author, Section
from articles.seo import absolute

NEWS_WINDOW = timedelta(hours=48)
NEWS_LIMIT = 1000  # Google News reads at most 1,000 URLs per sitemap.
MAX_URLS = 50_000  # the sitemaps protocol's limit per file


class SiteSitemap(Sitemap):
    """Absolute URLs on SITE_URL, whatever host the request came in on.

    At most MAX_URLS per file: /sitemap.xml is the index of every file (`index`).
    """

    limit = MAX_URLS

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc

    def stats(self):
        """(number of URLs, latest lastmod) in one aggregate query, for the index."""
        found = self.items().order_by().aggregate(count=Count("pk"), latest=Max(self.latest))
        return found["count"], found["latest"]


def _public_articles(prefix):
    return Q(**{f"{prefix}__in": Article.objects.published()})


def _last_published(prefix):
    return Max(f"{prefix}__publish_at", filter=_public_articles(prefix))


class HomeSitemap(SiteSitemap):
    changefreq = "always"
    priority = 1.0

    def items(self):
        return ["articles:latest"]

    def location(self, name):
        return reverse(name)

    def lastmod(self, name):
        return Article.objects.published().aggregate(latest=Max("publish_at"))["latest"]

    def stats(self):
        return 1, self.lastmod("articles:latest")


class ArticleSitemap(SiteSitemap):
    changefreq = "daily"
    priority = 0.8
    # The last change readers can see: an update, publication or any edit after it.
    latest = Greatest("publish_at", Coalesce("updated_at", "publish_at"), "modified_at")

    def items(self):
        return (
            Article.objects.published()
            .only("slug", "publish_at", "updated_at", "modified_at")
            .order_by("-publish_at", "-pk")
        )

    def lastmod(self, article):
        return max(filter(None, [article.updated_at, article.publish_at, article.modified_at]))


class SectionSitemap(SiteSitemap):
    changefreq = "hourly"
    priority = 0.6
    latest = "last_published"

    def items(self):
        return Section.objects.annotate(last_published=_last_published("articles")).order_by(
            "position", "name"
        )

    def lastmod(self, section):
        return section.last_published

    def stats(self):
        found = Section.objects.aggregate(count=Count("pk"), latest=_last_published("articles"))
        return found["count"], found["latest"]


class AuthorSitemap(SiteSitemap):
    changefreq = "daily"
    priority = 0.4
    latest = "last_published"

    def items(self):
        return (
            Author.objects.annotate(last_published=_last_published("articles"))
            .filter(last_published__isnull=False)
            .order_by("name", "pk")
        )

    def lastmod(self, author):
        return author.last_published

    def stats(self):
        return _owner_stats(Author.objects.all(), "articles")


class TagSitemap(SiteSitemap):
    """Tag pages that list at least one public article."""

    changefreq = "daily"
    priority = 0.4

    def items(self):
        return (
            Tag.objects.annotate(last_published=_last_published("article"))
            .filter(last_published__isnull=False)
            .only("slug")
            .order_by("slug", "pk")
        )

    def location(self, tag):
        return reverse("articles:tag-detail", kwargs={"slug": tag.slug})

    def lastmod(self, tag):
        return tag.last_published

    def stats(self):
        return _owner_stats(Tag.objects.all(), "article")


def _owner_stats(owners, prefix):
    """How many of `owners` list a public article, and the latest publication among them
    (one query: Django aggregates over the grouped rows as a subquery)."""
    found = (
        owners.annotate(last_published=_last_published(prefix))
        .filter(last_published__isnull=False)
        .aggregate(count=Count("pk"), latest=Max("last_published"))
    )
    return found["count"], found["latest"]


SITEMAPS = {
    "home": HomeSitemap,
    "sections": SectionSitemap,
    "authors": AuthorSitemap,
    "tags": TagSitemap,
    "articles": ArticleSitemap,
}


def index(request):
    """/sitemap.xml: the index of every sitemap file, each at most MAX_URLS long.

    One aggregate query per kind (how many URLs and the latest change), whatever the
    number of files; Django's own index view would read every item's lastmod.
    """
    output = io.StringIO()
    xml = SimplerXMLGenerator(output, "utf-8", short_empty_elements=True)
    xml.startDocument()
    xml.startElement("sitemapindex", {"xmlns": "http://www.sitemaps.org/schemas/sitemap/0.9"})
    for section, sitemap_class in SITEMAPS.items():
        count, latest = sitemap_class().stats()
        location = absolute(reverse("articles:sitemap-section", kwargs={"section": section}))
        for page in range(1, max(1, math.ceil(count / MAX_URLS)) + 1):
            xml.startElement("sitemap", {})
            xml.addQuickElement("loc", location + (f"?p={page}" if page > 1 else ""))
            if latest is not None:
                xml.addQuickElement("lastmod", latest.isoformat(timespec="seconds"))
            xml.endElement("sitemap")
    xml.endElement("sitemapindex")
    return HttpResponse(output.getvalue(), content_type="application/xml; charset=utf-8")


def news_sitemap(request):
    """Articles of the last 48 hours in the Google News sitemap shape."""
    since = timezone.now() - NEWS_WINDOW
    articles = (
        Article.objects.published()
        .filter(publish_at__gte=since)
        .only("title", "slug", "publish_at", "first_published_at")
        .order_by("-publish_at", "-pk")[:NEWS_LIMIT]
    )
    output = io.StringIO()
    xml = SimplerXMLGenerator(output, "utf-8", short_empty_elements=True)
    xml.startDocument()
    xml.startElement(
        "urlset",
        {
            "xmlns": "http://www.sitemaps.org/schemas/sitemap/0.9",
            "xmlns:news": "http://www.google.com/schemas/sitemap-news/0.9",
        },
    )
    language = settings.LANGUAGE_CODE.split("-")[0]
    for article in articles:
        xml.startElement("url", {})
        xml.addQuickElement("loc", absolute(article.get_absolute_url()))
        xml.startElement("news:news", {})
        xml.startElement("news:publication", {})
        xml.addQuickElement("news:name", xml_text(settings.SITE_NAME))
        xml.addQuickElement("news:language", language)
        xml.endElement("news:publication")
        published = article.first_published_at or article.publish_at
        xml.addQuickElement("news:publication_date", published.isoformat(timespec="seconds"))
        xml.addQuickElement("news:title", xml_text(article.title))
        xml.endElement("news:news")
        xml.endElement("url")
    xml.endElement("urlset")
    return HttpResponse(output.getvalue(), content_type="application/xml; charset=utf-8")
