"""Each public page costs a fixed number of SQL queries, whatever it shows.

Budgets are for a page the page cache does not hold (a cached page costs none): the
first reader after a change, staff, a reader with a session. The page cache's schedule
(one query when something scheduled changes, shared by every page) is read first, so it
is not counted against any one page. A page of cards has two budgets: the first time
after its cards changed (they are rendered from the database and kept:
articles/cards.py), and every time after (the kept cards, in one query).
"""

import pytest
from django.contrib.contenttypes.models import ContentType

from articles.models import Article
from newsroom.pagecache import store
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    ImageFactory,
    NoteFactory,
    RenditionFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db

# Pages past the page cache with what they show kept (articles/cards.py): the article
# with its kept parts and its rails' last ranking (one query), both rails' kept cards
# (one query) and the navigation.
ARTICLE_BUDGET = 3
# The rails ranked again (related and latest stories: 2) and the ranking kept (1, in a
# savepoint: 2 more inside a test's transaction).
RAILS_RANKED_BUDGET = 5
# A page of cards: its owner (section, tag, or author with their photo), the keys of its rows,
# their cards (one query) and the navigation; the corrections page and sitemaps.
LISTING_BUDGET = 6
CARDS_KEPT_BUDGET = LISTING_BUDGET
# The first render after what they show changed: the cards read and not found, loaded
# (3 queries) and kept (1, in a savepoint: 2 more inside a test's transaction); the
# article's parts as well (the article with its bylines, tags and notes, its pictures,
# and their write).
LISTING_FIRST_BUDGET = LISTING_BUDGET + 6
ARTICLE_FIRST_BUDGET = ARTICLE_BUDGET + RAILS_RANKED_BUDGET + 6 + 9
# A feed with its items kept (articles/feeds.py): its section or author, its newest
# articles' keys and dates, their kept items.
FEED_BUDGET = 3
# The items read and not found, drawn (the articles with their bylines, tags and notes:
# 4; their pictures: 1) and kept (1, in a savepoint: 2 more inside a test's transaction).
FEED_FIRST_BUDGET = FEED_BUDGET + 8
# The tests read pages past the page cache as a reader whose cookie names a session.
SESSION = 1


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
    store.next_moment()
    ContentType.objects.get_for_model(Article)
    return articles[0], authors[0]


@pytest.mark.parametrize("n", [1, 10])
def test_article_page_query_budget(reader_with_session, django_assert_max_num_queries, n):
    article, _ = build_site(n)
    response = within_budgets(
        reader_with_session,
        article.get_absolute_url(),
        django_assert_max_num_queries,
        first=ARTICLE_FIRST_BUDGET + SESSION,
        then=ARTICLE_BUDGET + SESSION,
    )
    assert response.content.decode().count("<picture>") >= 1 + n


def within_budgets(
    reader, url, assert_max_queries, *, first=LISTING_FIRST_BUDGET, then=CARDS_KEPT_BUDGET
):
    """Get a page of cards twice past the page cache (a reader with a session): within
    `first` queries while its cards are rendered and kept, `then` once they are."""
    with assert_max_queries(first):
        response = reader.get(url)
    assert response.status_code == 200
    with assert_max_queries(then):
        again = reader.get(url)
    assert again.content == response.content
    return response


@pytest.mark.parametrize("n", [1, 10])
@pytest.mark.parametrize("url", ["/", "/section/world/", "/tag/topic-0/", "/search/?q=paragraph"])
def test_listing_query_budget(reader_with_session, django_assert_max_num_queries, n, url):
    build_site(n)
    within_budgets(reader_with_session, url, django_assert_max_num_queries)


@pytest.mark.parametrize("n", [1, 10])
def test_corrections_page_query_budget(client, django_assert_max_num_queries, n):
    build_site(n)
    with django_assert_max_num_queries(LISTING_BUDGET):
        response = client.get("/corrections/")
    assert response.status_code == 200


def test_deep_listing_page_has_the_same_budget(reader_with_session, django_assert_max_num_queries):
    build_site(1)
    ArticleFactory.create_batch(45, published=True)
    store.next_moment()
    within_budgets(reader_with_session, "/?page=3", django_assert_max_num_queries)


@pytest.mark.parametrize("n", [1, 10])
def test_author_page_query_budget(reader_with_session, django_assert_max_num_queries, n):
    _, author = build_site(n)
    within_budgets(reader_with_session, author.get_absolute_url(), django_assert_max_num_queries)


@pytest.mark.parametrize("n", [1, 10])
@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/", "/section/world/feed/"])
def test_feed_query_budget(reader_with_session, django_assert_max_num_queries, n, url):
    build_site(n)
    within_budgets(
        reader_with_session,
        url,
        django_assert_max_num_queries,
        first=FEED_FIRST_BUDGET + SESSION,
        then=FEED_BUDGET,
    )


@pytest.mark.parametrize("n", [1, 10])
@pytest.mark.parametrize("url", ["/sitemap.xml", "/news-sitemap.xml"])
def test_sitemap_query_budget(client, django_assert_max_num_queries, n, url):
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
        (article.get_absolute_url(), ARTICLE_FIRST_BUDGET + SESSION),
        ("/", LISTING_FIRST_BUDGET),
        (author.get_absolute_url(), LISTING_FIRST_BUDGET),
    ]:
        with django_assert_max_num_queries(budget):
            response = reader_with_session.get(url)
        assert "X-Page-Cache" not in response and "private" in response["Cache-Control"]
