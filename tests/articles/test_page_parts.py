"""The article page's kept parts: rendered once per version, never shown out of date."""

import pytest

from articles import cache, page_parts
from articles.models import Note
from tests.factories import ArticleFactory, AuthorFactory, EditorFactory, NoteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(client, settings):
    """A reader with a session: every request goes past the page cache."""
    client.cookies[settings.SESSION_COOKIE_NAME] = "reader-session"
    return client


def test_a_request_past_the_page_cache_reuses_the_kept_parts(reader, monkeypatch):
    article = ArticleFactory(published=True)
    reader.get(article.get_absolute_url())
    rendered = []
    monkeypatch.setattr(page_parts, "render_parts", lambda a: rendered.append(a) or {})
    assert reader.get(article.get_absolute_url()).status_code == 200
    assert rendered == []


def test_an_edited_article_shows_its_new_text_at_once(reader):
    article = ArticleFactory(published=True, body="<p>The first version.</p>")
    assert "The first version." in reader.get(article.get_absolute_url()).content.decode()
    article.body = "<p>The corrected version.</p>"
    article.save()
    page = reader.get(article.get_absolute_url()).content.decode()
    assert "The corrected version." in page and "The first version." not in page


def test_a_correction_added_elsewhere_shows_at_once(reader, django_capture_on_commit_callbacks):
    article = ArticleFactory(published=True)
    reader.get(article.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        NoteFactory(article=article, kind=Note.Kind.CORRECTION, text="We misnamed the minister.")
    assert "We misnamed the minister." in reader.get(article.get_absolute_url()).content.decode()


def test_a_newer_article_appears_in_the_latest_rail(reader, django_capture_on_commit_callbacks):
    article = ArticleFactory(published=True)
    reader.get(article.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        ArticleFactory(published=True, title="A newer story for the rail")
    assert "A newer story for the rail" in reader.get(article.get_absolute_url()).content.decode()


def test_an_article_unpublished_after_its_address_was_checked_is_not_found(reader, monkeypatch):
    article = ArticleFactory(published=True)
    cache.invalidate()
    monkeypatch.setattr(page_parts.queries, "article_for_page", lambda pk: None)
    assert reader.get(article.get_absolute_url()).status_code == 404


def test_previews_are_never_kept(client):
    client.force_login(EditorFactory())
    article = ArticleFactory(title="First draft title")
    client.get(f"/preview/{article.pk}/")
    article.title = "Second draft title"
    article.save()
    assert "Second draft title" in client.get(f"/preview/{article.pk}/").content.decode()


def test_an_authors_kept_card_follows_an_edit(reader, django_capture_on_commit_callbacks):
    author = AuthorFactory(bio="Covers the port.")
    ArticleFactory(published=True, authors=[author])
    assert "Covers the port." in reader.get(author.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        author.bio = "Covers the harbour and the river."
        author.save()
    page = reader.get(author.get_absolute_url()).content.decode()
    assert "Covers the harbour and the river." in page and "Covers the port." not in page


def test_a_renamed_section_shows_its_new_name_on_its_page(
    reader, django_capture_on_commit_callbacks
):
    article = ArticleFactory(published=True, section__name="Harbours")
    section = article.section
    assert "Harbours" in reader.get(section.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        section.name = "Ports and harbours"
        section.save()
    assert "Ports and harbours" in reader.get(section.get_absolute_url()).content.decode()


def test_an_unknown_section_is_not_found_and_not_kept(reader, django_assert_num_queries):
    assert reader.get("/section/no-such-section/").status_code == 404
    with django_assert_num_queries(1):
        assert reader.get("/section/no-such-section/").status_code == 404


def test_a_listings_cards_are_kept_as_one_block_and_follow_an_edit(reader):
    article = ArticleFactory(published=True, title="Harbour talks resume")
    assert "Harbour talks resume" in reader.get("/").content.decode()
    article.title = "Harbour talks collapse"
    article.save()  # a new modification time: a new block, whatever the generation
    page = reader.get("/").content.decode()
    assert "Harbour talks collapse" in page and "Harbour talks resume" not in page
