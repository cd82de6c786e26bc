"""Queries compiled once (articles/compiled.py): the same answers as the ORM, each time."""

import datetime
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.compiled import Compiled
from articles.models import Article
from articles.queries import PUBLISHED, Listing, author_with_photo
from tests.factories import ArticleFactory, AuthorFactory, ImageFactory, RenditionFactory

pytestmark = pytest.mark.django_db


def published_ids(now):
    sql, params = PUBLISHED.sql(now=now)
    rows = Article.objects.raw(f"SELECT id FROM articles_article WHERE {sql}", params)
    return {article.pk for article in rows}


def test_the_compiled_rule_of_what_is_public_asks_about_the_moment_given_each_time():
    now = timezone.now()
    public = ArticleFactory(published=True, publish_at=now - timedelta(days=1))
    scheduled = ArticleFactory(status=Article.Status.SCHEDULED, publish_at=now + timedelta(hours=1))
    ArticleFactory()  # a draft

    assert published_ids(now) == {public.pk}
    assert published_ids(now + timedelta(hours=2)) == {public.pk, scheduled.pk}
    orm = set(Article.objects.published(now=now + timedelta(hours=2)).values_list("pk", flat=True))
    assert published_ids(now + timedelta(hours=2)) == orm


def test_a_query_is_built_and_compiled_once_per_database():
    built = []

    def build(now):
        built.append(now)
        return Article.objects.filter(publish_at__lte=now).values_list("pk")

    compiled = Compiled(build)
    article = ArticleFactory(published=True, publish_at=timezone.now() - timedelta(days=1))

    assert compiled.rows() == [(article.pk,)]
    assert compiled.rows(now=timezone.now() - timedelta(days=2)) == []
    assert len(built) == 1


def test_compiled_models_come_back_as_the_querysets_model_with_its_fields():
    now = timezone.now()
    article = ArticleFactory(published=True, publish_at=now - timedelta(minutes=5))
    compiled = Compiled(
        lambda now: Article.objects.published(now=now).only("pk", "slug", "publish_at")
    )

    [found] = compiled.models()

    assert isinstance(found, Article)
    assert (found.pk, found.slug, found.publish_at) == (
        article.pk,
        article.slug,
        article.publish_at,
    )


def test_a_compiled_listing_reads_each_page_at_its_offset_newest_first():
    now = timezone.now()
    stories = [
        ArticleFactory(published=True, publish_at=now - timedelta(hours=hour)) for hour in range(5)
    ]
    ArticleFactory(status=Article.Status.SCHEDULED, publish_at=now + timedelta(hours=1))
    listing = Listing(per_page=2)

    pages = [[article.pk for article in listing.models(offset=offset)] for offset in (0, 2, 4)]

    # One row more than the page holds tells whether an older page exists.
    assert pages == [
        [stories[0].pk, stories[1].pk, stories[2].pk],
        [stories[2].pk, stories[3].pk, stories[4].pk],
        [stories[4].pk],
    ]


def test_a_compiled_listing_takes_its_owner_as_a_parameter():
    first, second = ArticleFactory(published=True), ArticleFactory(published=True)
    listing = Listing(
        lambda public, now, owner: public.filter(section_id=owner), per_page=20, values=("owner",)
    )

    assert [a.pk for a in listing.models(offset=0, owner=first.section_id)] == [first.pk]
    assert [a.pk for a in listing.models(offset=0, owner=second.section_id)] == [second.pk]


def test_tuples_are_converted_as_the_orm_converts_them():
    photo = ImageFactory(usable_until=datetime.date(2031, 5, 6))
    RenditionFactory(image=photo, format="jpeg", width=400, height=225)
    RenditionFactory(image=photo, format="webp", width=400, height=225)
    author = AuthorFactory(photo=photo)
    found, found_photo = author_with_photo(author.slug)
    assert (found.pk, found.name, found.photo_id) == (author.pk, author.name, photo.pk)
    assert found_photo.usable_until == datetime.date(2031, 5, 6)
    assert sorted(r.format for r in found_photo.loaded_renditions) == ["jpeg", "webp"]

    without = AuthorFactory(photo=None)
    assert author_with_photo(without.slug) == (without, None)
