"""Anonymous requests cannot grow the page cache: junk query strings, other Host headers
and the other scheme never make new entries of a cached page (issue 13, row 5)."""

import pytest

from tests.factories import ArticleFactory, AuthorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    author = AuthorFactory(slug="ada")
    article = ArticleFactory(published=True, authors=[author])
    article.tags.add("elections")
    return article


def cached_urls(article):
    section = article.section.slug
    return [
        "/",
        article.get_absolute_url(),
        f"/section/{section}/",
        f"/section/{section}/feed/",
        "/author/ada/",
        "/author/ada/feed/",
        "/tag/elections/",
        "/search/?q=story",
        "/corrections/",
        "/feed/",
        "/feed/atom/",
        "/sitemap.xml",
        "/sitemap-articles.xml",
        "/news-sitemap.xml",
        "/robots.txt",
    ]


def test_junk_query_strings_make_no_new_copies_of_any_cached_page(client, site, kept_pages):
    urls = cached_urls(site)
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert len(kept_pages) == len(urls)
    for n in range(20):
        for url in urls:
            joiner = "&" if "?" in url else "?"
            response = client.get(f"{url}{joiner}utm_source=x{n}&junk={n}&fbclid={n}")
            assert response["X-Page-Cache"] == "hit", url
    assert len(kept_pages) == len(urls)


def test_an_unknown_host_is_refused_not_cached(client, site, settings, kept_pages):
    settings.ALLOWED_HOSTS = ["news.example.com"]
    client.get("/", HTTP_HOST="news.example.com")
    for n in range(10):
        assert client.get("/", HTTP_HOST=f"attacker{n}.example.net").status_code == 400
    assert len(kept_pages) == 1


def test_a_page_cached_for_http_is_not_served_to_https(client, site, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = client.get("/")
    secure = client.get("/", headers={"x-forwarded-proto": "https"})
    assert (plain["X-Page-Cache"], secure["X-Page-Cache"]) == ("miss", "miss")
