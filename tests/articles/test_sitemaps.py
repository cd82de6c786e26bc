import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ArticleFactory, AuthorFactory, SectionFactory

pytestmark = pytest.mark.django_db

SITE = "https://news.example.com"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def test_sitemap_lists_articles_sections_and_authors_with_lastmod(client):
    author = AuthorFactory()
    article = ArticleFactory(published=True, authors=[author])
    draft = ArticleFactory()
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    entries = {
        url.findtext(f"{SM}loc"): url.findtext(f"{SM}lastmod") for url in root.iter(f"{SM}url")
    }
    assert SITE + article.get_absolute_url() in entries
    assert SITE + article.section.get_absolute_url() in entries
    assert SITE + author.get_absolute_url() in entries
    assert entries[SITE + article.get_absolute_url()]
    assert SITE + draft.get_absolute_url() not in entries


def test_news_sitemap_has_the_google_news_shape(client):
    article = ArticleFactory(published=True, title="Peace <deal> & aftermath")
    response = client.get("/news-sitemap.xml")
    assert response.status_code == 200
    assert b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' in response.content
    root = ET.fromstring(response.content)
    assert root.tag == f"{SM}urlset"
    (url,) = root.findall(f"{SM}url")
    assert url.findtext(f"{SM}loc") == SITE + article.get_absolute_url()
    news = url.find(f"{NEWS}news")
    publication = news.find(f"{NEWS}publication")
    assert publication.findtext(f"{NEWS}name") == "The Newsroom"
    assert publication.findtext(f"{NEWS}language") == "en"
    assert news.findtext(f"{NEWS}title") == "Peace <deal> & aftermath"
    published = news.findtext(f"{NEWS}publication_date")
    assert timezone.datetime.fromisoformat(published).tzinfo is not None


def test_news_sitemap_has_only_the_last_48_hours(client):
    ArticleFactory(published=True, title="Fresh")
    old = ArticleFactory(published=True, title="Old")
    old.publish_at = timezone.now() - timedelta(hours=49)
    old.save()
    root = ET.fromstring(client.get("/news-sitemap.xml").content)
    titles = [title.text for title in root.iter(f"{NEWS}title")]
    assert titles == ["Fresh"]


def test_robots_txt_names_both_sitemaps(client):
    SectionFactory()
    response = client.get("/robots.txt")
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/plain")
    assert f"Sitemap: {SITE}/sitemap.xml" in text
    assert f"Sitemap: {SITE}/news-sitemap.xml" in text
    assert "admin" not in text  # the admin's address is not advertised
