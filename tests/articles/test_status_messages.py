"""Editors and writers are told the truth about an article's state."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from articles.models import Article
from tests.articles.admin_helpers import change_url
from tests.factories import ArticleFactory, ContributorFactory, EditorFactory, ImageFactory
from tests.rendered_form import as_post_data, rendered_form

pytestmark = pytest.mark.django_db

DELETED = "Perhaps it was deleted"


@pytest.fixture
def writer(client):
    user = ContributorFactory()
    client.force_login(user)
    return user


@pytest.fixture
def editor_client(client):
    client.force_login(EditorFactory())
    return client


def opened(client, article):
    response = client.get(change_url(article), follow=True)
    assert response.status_code == 200
    said = [str(message) for message in get_messages(response.wsgi_request)]
    return response.content.decode(), " ".join(said)


def test_writer_opening_a_published_article_of_someone_else_is_told_it_is_published(client, writer):
    article = ArticleFactory(published=True, title="Ports reopen")
    page, said = opened(client, article)
    assert "“Ports reopen” is published: only an editor can change it now." in said
    assert DELETED not in page and DELETED not in said


def test_writer_opening_their_own_published_article_reads_it_and_is_told_why(client, writer):
    article = ArticleFactory(published=True, created_by=writer, title="My story")
    page, said = opened(client, article)
    assert "is published: only an editor can change it now" in said
    assert "My story" in page
    assert 'name="_save"' not in page  # read-only
    assert DELETED not in said


def test_writer_opening_their_article_in_review_is_told_an_editor_has_it(client, writer):
    article = ArticleFactory(status=Article.Status.REVIEW, created_by=writer)
    _, said = opened(client, article)
    assert "is in review: an editor can change it now" in said


def test_writer_opening_someone_elses_draft_learns_nothing_of_it(client, writer):
    article = ArticleFactory(title="Another draft")
    page, said = opened(client, article)
    assert "Another draft" not in said and "Another draft" not in page


def test_writer_opening_own_draft_gets_the_form_without_a_message(client, writer):
    article = ArticleFactory(created_by=writer)
    page, said = opened(client, article)
    assert 'name="_save"' in page
    assert said == ""


def went_live():
    return ArticleFactory(
        status=Article.Status.SCHEDULED,
        publish_at=timezone.now() - timedelta(minutes=5),
        first_published_at=timezone.now() - timedelta(minutes=5),
        lead_image=ImageFactory(),
        title="Went live",
    )


def test_after_its_time_a_scheduled_article_shows_published_in_the_list(editor_client):
    went_live()
    ArticleFactory(
        status=Article.Status.SCHEDULED,
        publish_at=timezone.now() + timedelta(days=1),
        lead_image=ImageFactory(),
    )
    page = editor_client.get("/admin/articles/article/").content.decode()
    assert '<span class="status status--published">Published</span>' in page
    assert '<span class="status status--scheduled">Scheduled</span>' in page


def test_after_its_time_a_scheduled_article_shows_published_in_the_form(editor_client):
    article = went_live()
    page = editor_client.get(change_url(article)).content.decode()
    assert dict(rendered_form(page, form_id="article_form"))["status"] == "published"


def test_saving_a_live_scheduled_article_unchanged_keeps_it_as_it_was(editor_client):
    article = went_live()
    page = editor_client.get(change_url(article)).content.decode()
    fields = rendered_form(page, form_id="article_form")
    response = editor_client.post(change_url(article), as_post_data(fields, button="_save"))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == Article.Status.SCHEDULED
    assert article.effective_status == Article.Status.PUBLISHED
