"""One test per hole the hostile-input suite found, small enough to read as the bug
report, and the integrity rules: used sections and authors cannot be deleted."""

import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from articles.models import Author, Section
from tests.factories import ArticleFactory, AuthorFactory, SectionFactory, StaffFactory
from tests.security.payloads import find_executable

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader():
    return Client(raise_request_exception=False)


@pytest.fixture
def editor(client):
    client.force_login(StaffFactory(username="desk", is_superuser=True))
    return client


def test_a_dek_with_markup_reaches_feed_readers_as_text(reader):
    """Feed readers render an item's description as HTML, so plain text must be escaped."""
    ArticleFactory(published=True, dek="<img src=x onerror=alert('XSS')>")
    response = reader.get("/feed/")
    assert response.status_code == 200
    for description in ET.fromstring(response.content).iter("description"):
        assert not find_executable(description.text or ""), description.text


def test_a_section_name_with_control_characters_does_not_break_its_feed(reader):
    section = SectionFactory(name="Terminal \x1b[31m escape", slug="terminal")
    ArticleFactory(published=True, section=section)
    response = reader.get("/section/terminal/feed/")
    assert response.status_code == 200


def test_a_non_ascii_tag_does_not_break_the_article_page(reader):
    article = ArticleFactory(published=True)
    article.tags.add("Москва")
    response = reader.get(article.get_absolute_url())
    assert response.status_code == 200


def test_deleting_a_section_in_use_is_refused_with_the_articles_named(editor):
    section = SectionFactory(name="World")
    ArticleFactory(section=section, title="Talks resume in Geneva")
    response = editor.post(f"/admin/articles/section/{section.pk}/delete/", {"post": "yes"})
    assert Section.objects.filter(pk=section.pk).exists()
    assert "Talks resume in Geneva" in response.content.decode()


def test_deleting_an_author_with_a_byline_is_refused_with_the_articles_named(editor):
    author = AuthorFactory(name="Ana Writer")
    ArticleFactory(authors=[author], title="Harvest of the year")
    response = editor.post(f"/admin/articles/author/{author.pk}/delete/", {"post": "yes"})
    assert Author.objects.filter(pk=author.pk).exists()
    assert "Harvest of the year" in response.content.decode()
