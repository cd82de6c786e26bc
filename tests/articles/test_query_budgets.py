"""Each public page costs a fixed number of SQL queries, whatever it shows.

Budgets are for a page the page cache does not hold (a cached page costs none): the
first reader after a change, staff, a reader with a session. The page cache's schedule
(one query when something scheduled changes, shared by every page) is read first, so it
is not counted against any one page.
"""

import pytest
from django.contrib.contenttypes.models import ContentType

from articles.models import Article
from newsroom.pagecache import schedule
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    ImageFactory,
    NoteFactory,
    RenditionFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db

ARTICLE_BUDGET = 9
LISTING_BUDGET = 7


def credited_image():
    image = ImageFactory()
    for fmt in ("avif", "webp", "jpeg"):
        RenditionFactory(image=image, format=fmt, width=480, height=300)
    return image


def build_site(n):
    """A site where every article has `n` authors, tags and inline images."""
    section = SectionFactory(slug="world")
    authors = [AuthorFactory(photo=credited_image()) for _ in range(n)]
    tags = [f"topic-{i}" for i in range(n)]
    articles = []
    for _ in range(n + 3):
        images = [credited_image() for _ in range(n)]
        body = "".join(
            f'<p>Paragraph.</p><figure data-image-id="{image.pk}"><img src="{image.file.url}" '
            f'data-image-id="{image.pk}" alt=""><figcaption>Caption</figcaption></figure>'
            for image in images
        )
        article = ArticleFactory(
            published=True, section=section, authors=authors, lead_image=credited_image(), body=body
        )
        article.tags.add(*tags)
        for _ in range(n):
            NoteFactory(article=article)
        articles.append(article)
    # Warm what is shared by every page: the schedule and the content types.
    schedule.next_moment()
    ContentType.objects.get_for_model(Article)
    return articles[0], authors[0]


@pytest.mark.parametrize("n", [1, 10])
def test_article_page_query_budget(client, django_assert_max_num_queries, n):
    article, _ = build_site(n)
    with django_assert_max_num_queries(ARTICLE_BUDGET):
        response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert response.content.decode().count("<picture>") >= 1 + n


@pytest.mark.parametrize("n", [1, 10])
@pytest.mark.parametrize(
    "url",
    ["/", "/section/world/", "/tag/topic-0/", "/corrections/", "/search/?q=paragraph"],
)
def test_listing_query_budget(client, django_assert_max_num_queries, n, url):
    build_site(n)
    with django_assert_max_num_queries(LISTING_BUDGET):
        response = client.get(url)
    assert response.status_code == 200


def test_deep_listing_page_has_the_same_budget(client, django_assert_max_num_queries):
    build_site(1)
    ArticleFactory.create_batch(45, published=True)
    schedule.next_moment()
    with django_assert_max_num_queries(LISTING_BUDGET):
        response = client.get("/?page=3")
    assert response.status_code == 200


@pytest.mark.parametrize("n", [1, 10])
def test_author_page_query_budget(client, django_assert_max_num_queries, n):
    _, author = build_site(n)
    with django_assert_max_num_queries(LISTING_BUDGET):
        response = client.get(author.get_absolute_url())
    assert response.status_code == 200


@pytest.mark.parametrize("n", [1, 10])
@pytest.mark.parametrize(
    "url", ["/feed/", "/feed/atom/", "/section/world/feed/", "/sitemap.xml", "/news-sitemap.xml"]
)
def test_feed_and_sitemap_query_budget(client, django_assert_max_num_queries, n, url):
    build_site(n)
    with django_assert_max_num_queries(LISTING_BUDGET):
        response = client.get(url)
    assert response.status_code == 200


def test_cached_page_costs_no_queries(client, django_assert_num_queries):
    article, _ = build_site(1)
    client.get(article.get_absolute_url())
    with django_assert_num_queries(0):
        response = client.get(article.get_absolute_url())
    assert response["X-Page-Cache"] == "hit"


@pytest.mark.parametrize("n", [1, 10])
def test_a_reader_with_a_session_gets_the_page_within_its_budget(
    reader_with_session, django_assert_max_num_queries, n
):
    article, author = build_site(n)
    for url, budget in [
        (article.get_absolute_url(), ARTICLE_BUDGET),
        ("/", LISTING_BUDGET),
        (author.get_absolute_url(), LISTING_BUDGET),
    ]:
        with django_assert_max_num_queries(budget):
            response = reader_with_session.get(url)
        assert "X-Page-Cache" not in response and "private" in response["Cache-Control"]
