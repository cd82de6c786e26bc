"""The newsroom's zone: read from TIME_ZONE, shown and entered in the admin with its
abbreviation, stored in UTC, shown on the public pages with the zone."""

from datetime import UTC, datetime

import pytest

from articles.models import Article
from newsroom import env
from newsroom.env import ConfigError
from tests.articles.admin_helpers import article_form_data, change_url
from tests.factories import ArticleFactory, EditorFactory


def test_time_zone_defaults_to_utc():
    assert env.read_time_zone({}) == "UTC"


def test_time_zone_is_read_from_the_environment():
    assert env.read_time_zone({"TIME_ZONE": "Europe/London"}) == "Europe/London"


@pytest.mark.parametrize("raw", ["Mars/Olympus_Mons", "../../etc/passwd", "GMT+25"])
def test_an_unknown_time_zone_names_the_variable(raw):
    with pytest.raises(ConfigError, match="TIME_ZONE"):
        env.read_time_zone({"TIME_ZONE": raw})


@pytest.fixture
def london(settings):
    settings.TIME_ZONE = "Europe/London"


@pytest.fixture
def editor_client(client):
    client.force_login(EditorFactory())
    return client


SUMMER_NOON_UTC = datetime(2030, 7, 1, 12, 0, tzinfo=UTC)
WINTER_NOON_UTC = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_the_admin_form_shows_a_publish_time_in_the_zone_with_its_abbreviation(
    london, editor_client
):
    article = ArticleFactory(status="scheduled", publish_at=SUMMER_NOON_UTC)
    page = editor_client.get(change_url(article)).content.decode()
    assert 'value="13:00:00"' in page
    assert "Time (BST, Europe/London):" in page


@pytest.mark.django_db
def test_the_abbreviation_follows_the_date_of_the_time(london, editor_client):
    article = ArticleFactory(status="scheduled", publish_at=WINTER_NOON_UTC)
    page = editor_client.get(change_url(article)).content.decode()
    assert 'value="12:00:00"' in page
    assert "Time (GMT, Europe/London):" in page


@pytest.mark.django_db
def test_a_time_entered_in_the_admin_is_read_in_the_zone_and_stored_in_utc(london, editor_client):
    article = ArticleFactory(status="draft", publish_at=None)
    data = article_form_data(
        article, publish_at_0="2030-07-01", publish_at_1="09:30:00", status="draft"
    )
    response = editor_client.post(change_url(article), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    article.refresh_from_db()
    assert article.publish_at == datetime(2030, 7, 1, 8, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_the_article_list_shows_times_with_the_zone(london, editor_client):
    ArticleFactory(status="scheduled", publish_at=SUMMER_NOON_UTC, title="Summer story")
    page = editor_client.get("/admin/articles/article/").content.decode()
    assert "1 Jul 2030, 13:00 BST" in page


@pytest.mark.django_db
def test_the_public_dateline_shows_the_time_in_the_zone(london, client):
    article = ArticleFactory(published=True, publish_at=datetime(2020, 7, 1, 12, 0, tzinfo=UTC))
    assert Article.objects.published().filter(pk=article.pk).exists()
    page = client.get(article.get_absolute_url()).content.decode()
    assert "1 July 2020, 13:00 BST" in page
