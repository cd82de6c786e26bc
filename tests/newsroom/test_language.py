"""One LANGUAGE_CODE drives <html lang>, og:locale, the feeds and the news sitemap."""

import re

import pytest

from newsroom import env
from newsroom.env import ConfigError
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("code", "html_lang", "og_locale"),
    [("en-gb", "en-GB", "en_GB"), ("fr-ca", "fr-CA", "fr_CA"), ("de", "de", "de")],
)
def test_language_code_drives_html_lang_og_locale_and_the_feed(
    client, settings, code, html_lang, og_locale
):
    settings.LANGUAGE_CODE = code
    article = ArticleFactory(published=True)
    for url in ("/", article.get_absolute_url(), article.section.get_absolute_url()):
        page = client.get(url).content.decode()
        assert f'<html lang="{html_lang}">' in page, url
        assert f'<meta property="og:locale" content="{og_locale}">' in page, url
    feed = client.get("/feed/").content.decode()
    assert f"<language>{code}</language>" in feed


def test_the_error_pages_speak_the_same_language(client, settings):
    settings.LANGUAGE_CODE = "fr-ca"
    assert '<html lang="fr-CA">' in client.get("/no-such-page/").content.decode()


def test_language_code_is_read_from_the_environment():
    assert env.read_language_code({}, default="en-gb") == "en-gb"
    assert env.read_language_code({"LANGUAGE_CODE": "fr_CA"}, default="en-gb") == "fr-ca"
    with pytest.raises(ConfigError, match="LANGUAGE_CODE"):
        env.read_language_code({"LANGUAGE_CODE": "english please"}, default="en-gb")


def test_datelines_give_time_and_zone_for_publication_and_update(client, settings):
    settings.TIME_ZONE = "Europe/London"
    from datetime import UTC, datetime

    article = ArticleFactory(published=True)
    type(article).objects.filter(pk=article.pk).update(
        publish_at=datetime(2026, 7, 1, 8, 5, tzinfo=UTC),
        first_published_at=datetime(2026, 7, 1, 8, 5, tzinfo=UTC),
        updated_at=datetime(2026, 7, 2, 17, 30, tzinfo=UTC),
    )
    article.refresh_from_db()
    page = client.get(article.get_absolute_url()).content.decode()
    assert '<time datetime="2026-07-01T09:05:00+01:00">1 July 2026, 09:05 BST</time>' in page
    assert '<time datetime="2026-07-02T18:30:00+01:00">2 July 2026, 18:30 BST</time>' in page
    home = client.get("/").content.decode()
    card = re.search(r'<p class="dateline dateline--card">.*?</p>', home).group(0)
    # One line: the zone written once when both times share it.
    assert ">1 Jul 2026, 09:05</time> · Updated <time" in card
    assert ">2 Jul, 18:30 BST</time>" in card
