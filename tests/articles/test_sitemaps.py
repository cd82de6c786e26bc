import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from articles.models import Article
from newsroom import pagecache
from tests.factories import ArticleFactory, AuthorFactory, SectionFactory

pytestmark = pytest.mark.django_db

SITE = "https://news.example.com"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def sitemap_entries(client):
    """{loc: lastmod} of every URL in every sitemap the index at /sitemap.xml names."""
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    index = ET.fromstring(response.content)
    assert index.tag == f"{SM}sitemapindex"
    entries = {}
    for location in index.iter(f"{SM}loc"):
        part = client.get(location.text.removeprefix(SITE))
        assert part.status_code == 200
        for url in ET.fromstring(part.content).iter(f"{SM}url"):
            entries[url.findtext(f"{SM}loc")] = url.findtext(f"{SM}lastmod")
    return entries


def test_sitemap_lists_home_articles_sections_authors_and_tags_with_lastmod(client):
    author = AuthorFactory()
    article = ArticleFactory(published=True, authors=[author])
    article.tags.add("Elections")
    draft = ArticleFactory()
    draft.tags.add("Unpublished topic")
    entries = sitemap_entries(client)
    assert SITE + "/" in entries
    assert SITE + article.get_absolute_url() in entries
    assert SITE + article.section.get_absolute_url() in entries
    assert SITE + author.get_absolute_url() in entries
    assert SITE + "/tag/elections/" in entries
    assert SITE + "/tag/unpublished-topic/" not in entries
    assert SITE + draft.get_absolute_url() not in entries


def test_sitemap_lastmod_is_a_timestamp_with_zone(client):
    article = ArticleFactory(published=True)
    lastmod = sitemap_entries(client)[SITE + article.get_absolute_url()]
    parsed = datetime.fromisoformat(lastmod)
    assert parsed.tzinfo is not None
    assert abs(parsed - article.modified_at) < timedelta(seconds=1)


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


@pytest.mark.slow
def test_sitemap_splits_100000_articles_into_files_of_50000_under_an_index(
    client, django_assert_max_num_queries
):
    """At 100,000 articles: the index names two article files, each at most 50,000 URLs.

    Rows go in with bulk_create (no factories, no signals): a few seconds on SQLite
    and PostgreSQL. Only the second file is rendered (50,000 URLs, a few seconds).
    """
    section = SectionFactory(slug="world")
    now = timezone.now()
    Article.objects.bulk_create(
        (
            Article(
                title=f"Story {n}",
                slug=f"story-{n}",
                section=section,
                status=Article.Status.PUBLISHED,
                publish_at=now - timedelta(minutes=n),
                first_published_at=now - timedelta(minutes=n),
            )
            for n in range(100_000)
        ),
        batch_size=5_000,
    )
    pagecache.purge({"all"})  # rows went in without signals
    with django_assert_max_num_queries(7):
        response = client.get("/sitemap.xml")
    index = ET.fromstring(response.content)
    locations = [loc.text for loc in index.iter(f"{SM}loc")]
    assert locations.count(SITE + "/sitemap-articles.xml") == 1
    assert locations.count(SITE + "/sitemap-articles.xml?p=2") == 1
    assert SITE + "/sitemap-articles.xml?p=3" not in locations
    assert all(lastmod.text and "T" in lastmod.text for lastmod in index.iter(f"{SM}lastmod"))

    second = client.get("/sitemap-articles.xml?p=2")
    assert second.status_code == 200
    urls = ET.fromstring(second.content).findall(f"{SM}url")
    assert len(urls) == 50_000
    assert urls[-1].findtext(f"{SM}loc").endswith("/story-99999/")
    assert client.get("/sitemap-articles.xml?p=3").status_code == 404
