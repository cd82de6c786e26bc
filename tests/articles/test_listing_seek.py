"""A deep page of the latest stream seeks its start by weekly counts on PostgreSQL
(articles/queries.py `Listing._seek`, migration 0014): the same rows, page by page, as a
plain offset slice of the ORM, through every kind of change to the articles."""

import io
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.db.models.functions import Floor
from django.db.models.functions.datetime import Extract
from django.utils import timezone

from articles import queries
from articles.models import Article, ListingWeek
from articles.queries import NEWEST_FIRST, Listing
from bench.management.commands import seed_bulk
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

PER_PAGE = 3


@pytest.fixture
def seek_always(monkeypatch):
    """Every page past the first seeks (the real threshold is deeper than test data)."""
    monkeypatch.setattr(queries, "SEEK_FROM", 1)


@pytest.fixture
def archive():
    """Public articles over some twenty weeks, several sharing a moment and a week's
    edge, some not public (drafts, scheduled for later), a week without any."""
    rng = random.Random(15)
    now = timezone.now()
    moments = [now - timedelta(hours=rng.randrange(1, 20 * 24 * 7)) for _ in range(25)]
    moments += [moments[3]] * 3  # ties: the key decides
    edge = datetime.fromtimestamp(
        (int(now.timestamp()) // queries.WEEK_SECONDS - 4) * queries.WEEK_SECONDS, tz=UTC
    )
    moments += [edge, edge, edge - timedelta(microseconds=1), edge + timedelta(microseconds=1)]
    moments = [m for m in moments if not (now - timedelta(weeks=9) < m < now - timedelta(weeks=8))]
    articles = [ArticleFactory(published=True, publish_at=moment) for moment in moments]
    ArticleFactory.create_batch(3, publish_at=now - timedelta(days=3))  # drafts
    for hours in (1, 30, 400):
        ArticleFactory(status=Article.Status.SCHEDULED, publish_at=now + timedelta(hours=hours))
    # Scheduled, and its time has come: public with no job run.
    ArticleFactory(status=Article.Status.SCHEDULED, publish_at=now - timedelta(minutes=5))
    return articles


def offset_slice(offset, window, now):
    """The listing's rows from `offset`, as the ORM slices them."""
    public = Article.objects.published(now=now).order_by(*NEWEST_FIRST)
    return list(public.values_list("pk", flat=True)[offset : offset + window])


def assert_every_page_as_the_orm_slices(listing, now=None):
    now = now or timezone.now()
    total = Article.objects.published(now=now).count()
    window = listing.per_page + 1 + listing.leaving_out
    for offset in range(total + 2):
        seeking = [row.pk for row in listing.models(offset=offset, now=now)]
        assert seeking == offset_slice(offset, window, now), offset


def assert_counts_are_kept():
    if connection.vendor != "postgresql":
        assert not ListingWeek.objects.exists()
        return
    week = Floor(Extract("publish_at", "epoch") / queries.WEEK_SECONDS)
    counted = (
        Article.objects.filter(status__in=Article.PUBLIC_STATUSES)
        .annotate(week=week)
        .values("week")
        .annotate(n=Count("pk"))
    )
    expected = {int(row["week"]): row["n"] for row in counted}
    kept = {row.week: row.articles for row in ListingWeek.objects.all() if row.articles}
    assert kept == expected


def test_a_seeking_listing_shows_each_page_as_an_offset_slice(archive, seek_always):
    assert_counts_are_kept()
    assert_every_page_as_the_orm_slices(Listing(per_page=PER_PAGE))
    assert_every_page_as_the_orm_slices(Listing(per_page=PER_PAGE, leaving_out=2))


def test_a_seeking_listing_asks_about_the_moment_given(archive, seek_always):
    listing = Listing(per_page=PER_PAGE)
    later = timezone.now() + timedelta(hours=31)  # two of the scheduled ones are public then
    assert_every_page_as_the_orm_slices(listing, now=later)
    assert_every_page_as_the_orm_slices(listing, now=timezone.now() - timedelta(weeks=3))


def test_the_counts_follow_every_change_of_the_articles(archive, seek_always):
    listing = Listing(per_page=PER_PAGE)
    first, second, third, fourth, fifth = archive[:5]
    first.status = Article.Status.DRAFT  # unpublished
    first.save()
    second.publish_at -= timedelta(weeks=3)  # moved to another week
    second.save()
    third.delete()
    Article.objects.filter(pk=fourth.pk).update(status=Article.Status.REVIEW)
    Article.objects.filter(pk__in=[a.pk for a in archive[10:16]]).update(
        publish_at=timezone.now() - timedelta(weeks=30)
    )
    Article.objects.filter(status=Article.Status.DRAFT).exclude(pk=first.pk).update(
        status=Article.Status.PUBLISHED
    )
    fifth.title = "An edit that moves nothing"
    fifth.save()
    assert_counts_are_kept()
    assert_every_page_as_the_orm_slices(listing)

    Article.objects.filter(pk__in=[a.pk for a in archive[20:]]).delete()
    assert_counts_are_kept()
    assert_every_page_as_the_orm_slices(listing)


def test_the_home_stream_leaves_out_the_front_page_as_without_seeking(
    archive, seek_always, monkeypatch
):
    listing = Listing(per_page=PER_PAGE, leaving_out=2)
    now = timezone.now()
    public = list(Article.objects.published(now=now).order_by(*NEWEST_FIRST))
    left_out = [public[1], public[9]]
    seeking = [
        [row.pk for row in listing.page(offset=offset, left_out=left_out, now=now)]
        for offset in range(0, len(public) + 3, PER_PAGE)
    ]
    monkeypatch.setattr(queries, "SEEK_FROM", 10**9)
    walking = [
        [row.pk for row in listing.page(offset=offset, left_out=left_out, now=now)]
        for offset in range(0, len(public) + 3, PER_PAGE)
    ]
    assert seeking == walking


def test_a_listing_of_an_owner_walks_the_index(archive, seek_always):
    listing = Listing(
        lambda public, now, owner: public.filter(section_id=owner), per_page=2, values=("owner",)
    )
    section = archive[0].section_id
    rows = [a.pk for a in listing.models(offset=2, owner=section)]
    public = Article.objects.published().filter(section_id=section).order_by(*NEWEST_FIRST)
    assert rows == list(public.values_list("pk", flat=True)[2:5])


def test_only_a_deep_page_of_the_whole_stream_seeks_and_only_on_postgresql():
    listing = Listing(per_page=PER_PAGE)
    seeks = connection.vendor == "postgresql"
    assert ("articles_listingweek" in listing.sql(offset=queries.SEEK_FROM)[0]) == seeks
    assert "articles_listingweek" not in listing.sql(offset=queries.SEEK_FROM - 1)[0]


def test_the_counts_follow_a_bulk_seed(seek_always):
    """seed_bulk writes its rows by COPY on PostgreSQL: the triggers count them too."""
    call_command(seed_bulk.Command(), articles=60, subscribers=5, authors=4, tags=5, verbosity=0)
    assert_counts_are_kept()
    assert_every_page_as_the_orm_slices(Listing(per_page=7))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the counts exist on PostgreSQL")
def test_counts_lost_with_triggers_off_are_found_and_made_again(archive, seek_always):
    out = io.StringIO()
    call_command("recount_listing_weeks", "--check", stdout=out)
    assert "right" in out.getvalue()
    # As a data-only restore with --disable-triggers would leave them.
    ListingWeek.objects.filter(week=ListingWeek.objects.order_by("-week")[0].week).delete()
    ListingWeek.objects.create(week=1, articles=7)
    with pytest.raises(CommandError, match="2 weeks' counts are wrong"):
        call_command("recount_listing_weeks", "--check", stdout=io.StringIO())
    call_command("recount_listing_weeks", stdout=io.StringIO())
    assert_counts_are_kept()
    assert_every_page_as_the_orm_slices(Listing(per_page=PER_PAGE))
