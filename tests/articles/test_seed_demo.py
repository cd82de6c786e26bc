import io
import time

import pytest
from django.core.management import call_command

from articles.models import Article, Author, Image, Note, Section

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_renditions(settings):
    """The worker makes renditions; the seed only queues them."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def counts():
    return [m.objects.count() for m in (Section, Author, Image, Article, Note)]


def test_seed_demo_loads_a_publication_quickly():
    started = time.monotonic()
    call_command("seed_demo", stdout=io.StringIO())
    assert time.monotonic() - started < 20
    names = set(Section.objects.values_list("name", flat=True))
    assert names == {
        "Asia-Pacific",
        "Middle East",
        "Global Crises",
        "Media",
        "Europe",
        "Americas",
        "Briefs",
    }
    assert Author.objects.count() == 12
    assert 35 <= Article.objects.count() <= 45
    assert Article.objects.published().count() >= 30
    assert Note.objects.filter(kind="correction").exists()
    assert not Image.objects.filter(credit="").exists()


def test_published_demo_articles_pass_the_checklist():
    call_command("seed_demo", stdout=io.StringIO())
    for article in Article.objects.published().select_related("lead_image"):
        assert article.publish_problems() == [], article.title


def test_seed_demo_is_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    first = counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == first


def test_if_empty_leaves_an_existing_database_alone():
    from tests.factories import ArticleFactory

    ArticleFactory()
    call_command("seed_demo", "--if-empty", stdout=io.StringIO())
    assert Article.objects.count() == 1
