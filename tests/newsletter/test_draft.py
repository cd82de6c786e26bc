"""The automatic draft picks the week's stories fairly."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from articles.models import Article, ArticleQuerySet, FrontPageStory
from newsletter.models import Issue
from tests.factories import ArticleFactory, SectionFactory

pytestmark = pytest.mark.django_db


def _story(section, *, hours_ago, **kwargs):
    return ArticleFactory(
        section=section,
        published=True,
        publish_at=timezone.now() - datetime.timedelta(hours=hours_ago),
        **kwargs,
    )


def _drafted():
    call_command("draft_roundup", stdout=None)
    return Issue.objects.get().ordered_articles()


def test_every_section_that_published_this_week_is_in_the_draft():
    names = ["Politics", "Business", "Europe", "Americas", "Briefs"]
    sections = [SectionFactory(name=name, position=index) for index, name in enumerate(names)]
    for hour in range(25):  # a busy week in the first section
        _story(sections[0], hours_ago=hour + 1)
    newest = {}
    for section in sections[1:]:
        for hour in range(4):
            article = _story(section, hours_ago=10 * hour + 2)
            newest.setdefault(section.name, article)
    articles = _drafted()
    assert len(articles) == 20
    assert {article.section.name for article in articles} == set(names)
    for name, article in newest.items():
        assert article in articles, f"the newest {name} story is missing"


def test_stories_older_than_a_week_and_unpublished_ones_are_left_out():
    section = SectionFactory()
    fresh = _story(section, hours_ago=2)
    _story(section, hours_ago=24 * 8)
    ArticleFactory(section=section)  # a draft
    assert _drafted() == [fresh]


def test_featured_stories_come_first(monkeypatch):
    section = SectionFactory(position=0)
    other = SectionFactory(position=1)
    _story(section, hours_ago=1)
    chosen = _story(other, hours_ago=50)
    monkeypatch.setattr(
        ArticleQuerySet, "featured", lambda self: self.filter(pk=chosen.pk), raising=True
    )
    articles = _drafted()
    assert articles[0] == chosen
    assert len(articles) == 2


def test_stories_on_the_front_page_are_featured_until_they_expire():
    section = SectionFactory()
    placed, expired, _ordinary = (_story(section, hours_ago=h) for h in (1, 2, 3))
    FrontPageStory.objects.create(article=placed, position=0)
    FrontPageStory.objects.create(
        article=expired, position=1, expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert list(Article.objects.featured()) == [placed]
    assert _drafted()[0] == placed
