"""Listing pages: numbered pages read by a narrow index walk, without a count."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article
from articles.pagination import paginate
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

PER_PAGE = 5


@pytest.fixture
def articles():
    """Twelve public articles, some sharing a publish time (the order falls back on id)."""
    now = timezone.now()
    made = []
    for index in range(12):
        made.append(ArticleFactory(published=True, publish_at=now - timedelta(minutes=index // 3)))
    return made


def listing(number):
    request = RequestFactory().get("/", {"page": number} if number > 1 else {})
    return paginate(
        request,
        Article.objects.published().only("pk", "publish_at", "modified_at"),
        per_page=PER_PAGE,
    )


def ids(page):
    return [article.pk for article in page]


def newest_first(articles):
    return [a.pk for a in sorted(articles, key=lambda a: (a.publish_at, a.pk), reverse=True)]


def test_walking_the_pages_gives_every_article_once_in_order(articles):
    walked = ids(listing(1)) + ids(listing(2)) + ids(listing(3))
    assert walked == newest_first(articles)
    assert not listing(3).has_next


def test_a_deep_page_reads_its_rows_in_one_query(articles):
    with CaptureQueriesContext(connection) as queries:
        page = listing(3)
    assert ids(page) == newest_first(articles)[2 * PER_PAGE :]
    assert len(queries) == 1


def test_a_new_article_moves_every_page_along(articles):
    listing(1)
    listing(2)
    newest = ArticleFactory(published=True, publish_at=timezone.now())
    assert ids(listing(1))[0] == newest.pk
    assert ids(listing(2)) == newest_first([*articles, newest])[PER_PAGE : 2 * PER_PAGE]
