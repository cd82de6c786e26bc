"""Sitemaps for search engines: /sitemap.xml and the Google News /news-sitemap.xml."""

import io
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, Q
from django.http import HttpResponse
from django.utils import timezone
from django.utils.xmlutils import SimplerXMLGenerator

from articles.feeds import xml_text
from articles.models import Article, Author, Section
from articles.seo import absolute

NEWS_WINDOW = timedelta(hours=48)
NEWS_LIMIT = 1000  # Google News reads at most 1,000 URLs per sitemap.


class SiteSitemap(Sitemap):
    """Absolute URLs on SITE_URL, whatever host the request came in on."""

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class ArticleSitemap(SiteSitemap):
    changefreq = "daily"
    priority = 0.8
    limit = 10_000

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

    def items(self):
        return Section.objects.annotate(
            last_published=Max("articles__publish_at", filter=_public_articles("articles"))
        ).order_by("position", "name")

    def lastmod(self, section):
        return section.last_published


class AuthorSitemap(SiteSitemap):
    changefreq = "daily"
    priority = 0.4

    def items(self):
        return (
            Author.objects.annotate(
                last_published=Max("articles__publish_at", filter=_public_articles("articles"))
            )
            .filter(last_published__isnull=False)
            .order_by("name", "pk")
        )

    def lastmod(self, author):
        return author.last_published


def _public_articles(prefix):
    return Q(**{f"{prefix}__in": Article.objects.published()})


SITEMAPS = {"articles": ArticleSitemap, "sections": SectionSitemap, "authors": AuthorSitemap}


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
