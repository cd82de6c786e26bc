"""Listing pages: any page is read by seeking the index once its start is known."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import cache
from articles.models import Article
from articles.pagination import Boundaries, paginate
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
    cache.invalidate()
    return made


def listing(number):
    request = RequestFactory().get("/", {"page": number} if number > 1 else {})
    return paginate(
        request,
        Article.objects.published().only("pk", "publish_at", "modified_at"),
        per_page=PER_PAGE,
        remember_boundaries=True,
    )


def ids(page):
    return [article.pk for article in page]


def newest_first(articles):
    return [a.pk for a in sorted(articles, key=lambda a: (a.publish_at, a.pk), reverse=True)]


def test_walking_the_pages_gives_every_article_once_in_order(articles):
    walked = ids(listing(1)) + ids(listing(2)) + ids(listing(3))
    assert walked == newest_first(articles)
    assert not listing(3).has_next


def test_a_page_whose_start_is_known_is_read_without_an_offset(articles):
    listing(1)  # remembers where page 2 starts
    with CaptureQueriesContext(connection) as queries:
        page = listing(2)
    assert ids(page) == newest_first(articles)[PER_PAGE : 2 * PER_PAGE]
    assert "OFFSET" not in queries[-1]["sql"].upper()


def test_a_page_remembers_its_starts_once_per_generation(articles, monkeypatch):
    listing(2)
    writes = []
    monkeypatch.setattr("articles.pagination.cache.set_many", lambda *a, **k: writes.append(a))
    listing(1)
    listing(2)
    assert writes == []


def test_a_jump_to_a_deep_page_pays_the_offset_once(articles):
    with CaptureQueriesContext(connection) as first:
        listing(3)
    with CaptureQueriesContext(connection) as again:
        listing(3)
    assert "OFFSET" in first[-1]["sql"].upper()
    assert "OFFSET" not in again[-1]["sql"].upper()


def test_a_new_article_moves_every_page_along(articles):
    listing(1)
    listing(2)
    newest = ArticleFactory(published=True, publish_at=timezone.now())
    cache.invalidate()  # what the content signals do on commit
    assert ids(listing(1))[0] == newest.pk
    assert ids(listing(2)) == newest_first([*articles, newest])[PER_PAGE : 2 * PER_PAGE]


def test_seeking_handles_rows_that_share_the_leading_sort_key(articles):
    start = Boundaries("/", ("-publish_at", "-pk"), 1)
    ordered = newest_first(articles)
    middle = Article.objects.get(pk=ordered[4])
    rows = Article.objects.filter(start.at_or_after((middle.publish_at, middle.pk)))
    assert newest_first(rows) == ordered[4:]
