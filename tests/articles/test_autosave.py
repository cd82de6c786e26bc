"""Autosave (services.autosave_draft through the admin's autosave endpoint) and the live
checklist: what the editor types is kept, and nothing readers see changes."""

from datetime import timedelta

import pytest
from reversion.models import Version

from articles import services
from articles.models import Article
from tests.articles.admin_helpers import article_form_data
from tests.factories import (
    ArticleFactory,
    ContributorFactory,
    EditorFactory,
    ImageFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db


def autosave_url(article=None):
    if article is None:
        return "/admin/articles/article/add/autosave/"
    return f"/admin/articles/article/{article.pk}/autosave/"


@pytest.fixture
def editor(client):
    user = EditorFactory(first_name="Eleanor", last_name="Vance")
    client.force_login(user)
    return user


def autosave_revisions(article):
    return Version.objects.get_for_object(article).filter(
        revision__comment=services.AUTOSAVE_COMMENT
    )


def test_an_autosave_keeps_a_drafts_text_and_moves_its_version(client, editor):
    draft = ArticleFactory(title="First words")
    response = client.post(
        autosave_url(draft), article_form_data(draft, title="Better words", body="<p>More.</p>")
    )
    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert (draft.title, draft.body, draft.status) == ("Better words", "<p>More.</p>", "draft")
    assert response.json()["version"] == draft.version == 2


def test_an_autosave_never_publishes(client, editor):
    draft = ArticleFactory()
    data = article_form_data(draft, status="published", publish_at_0="2020-01-01")
    data["publish_at_1"] = "10:00:00"
    assert client.post(autosave_url(draft), data).status_code == 200
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.publish_at is None
    assert not Article.objects.published().filter(pk=draft.pk).exists()


def test_an_autosave_of_a_draft_purges_no_cached_page(
    client, editor, django_capture_on_commit_callbacks, sent_purges
):
    draft = ArticleFactory()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(autosave_url(draft), article_form_data(draft, title="Quietly kept"))
    assert sent_purges == []


def test_an_autosave_of_a_published_article_leaves_what_readers_see(
    client, editor, django_capture_on_commit_callbacks, sent_purges
):
    article = ArticleFactory(published=True, title="The published headline")
    client.logout()
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "miss"
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            autosave_url(article), article_form_data(article, title="An unapproved headline")
        )
    assert response.json()["on_article"] is False
    article.refresh_from_db()
    assert article.title == "The published headline" and article.version == 1
    assert sent_purges == []
    client.logout()
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "hit"
    kept = autosave_revisions(article).get()
    assert kept.field_dict["title"] == "An unapproved headline"


def test_autosaves_keep_at_most_one_revision_per_window(client, editor):
    draft = ArticleFactory()
    for number in range(3):
        draft.refresh_from_db()
        client.post(autosave_url(draft), article_form_data(draft, title=f"Take {number}"))
    revisions = autosave_revisions(draft)
    assert revisions.count() == 1
    assert revisions.get().field_dict["title"] == "Take 2"
    revision = revisions.get().revision
    revision.date_created -= timedelta(seconds=services.AUTOSAVE_REVISION_SECONDS + 1)
    revision.save()
    draft.refresh_from_db()
    client.post(autosave_url(draft), article_form_data(draft, title="Take 3"))
    assert autosave_revisions(draft).count() == 2


def test_a_conflicting_autosave_names_who_changed_what(client, editor):
    import reversion

    draft = ArticleFactory(title="The first title")
    with reversion.create_revision():
        draft.save()  # opened at this version
    opened = article_form_data(draft, dek="My new dek")
    other = EditorFactory(first_name="Rosa", last_name="Quint")
    with reversion.create_revision():
        draft.title = "Rosa's title"
        services.save_article(article=draft, by=other)
        reversion.set_user(other)
    response = client.post(autosave_url(draft), opened)
    assert response.status_code == 409
    assert "Rosa Quint changed the title" in response.json()["error"]
    draft.refresh_from_db()
    assert draft.dek != "My new dek"


def test_the_first_autosave_of_a_new_article_creates_a_draft(client, editor):
    section = SectionFactory()
    response = client.post(
        autosave_url(),
        {"title": "Just started", "section": section.pk, "kind": "news", "body": "<p>Hi</p>"},
    )
    assert response.status_code == 200
    article = Article.objects.get(title="Just started")
    assert article.status == "draft" and article.created_by == editor
    assert response.json()["change_url"] == f"/admin/articles/article/{article.pk}/change/"


def test_an_autosave_without_a_title_says_what_is_missing(client, editor):
    response = client.post(autosave_url(), {"title": "", "kind": "news"})
    assert response.status_code == 400
    assert "Not saved yet" in response.json()["error"]
    assert not Article.objects.exists()


def test_an_autosave_sanitises_the_body(client, editor):
    draft = ArticleFactory()
    client.post(
        autosave_url(draft),
        article_form_data(draft, body='<p onclick="x()">Hi<script>alert(1)</script></p>'),
    )
    draft.refresh_from_db()
    assert "script" not in draft.body and "onclick" not in draft.body


def test_a_contributor_cannot_autosave_someone_elses_article(client):
    client.force_login(ContributorFactory())
    draft = ArticleFactory(title="Not theirs")
    response = client.post(autosave_url(draft), article_form_data(draft, title="Taken over"))
    assert response.status_code in (403, 404)
    draft.refresh_from_db()
    assert draft.title == "Not theirs"


def test_an_autosave_must_be_a_post(client, editor):
    assert client.get(autosave_url(ArticleFactory())).status_code == 405


def test_the_live_checklist_answers_for_unsaved_values(client, editor):
    image = ImageFactory(alt_text="A harbour", credit="")
    response = client.post(
        "/admin/articles/article/editor/checklist/",
        {"title": "Draft", "dek": "", "lead_image": image.pk, "bylines-TOTAL_FORMS": "0"},
    )
    answer = response.json()
    messages = {item["message"]: item["anchor"] for item in answer["items"]}
    assert messages["Choose a section."] == "id_section"
    assert messages["Add at least one author."] == "bylines-group"
    assert messages["Give the lead image a credit."] == "id_lead_image"
    assert answer["lead_image"]["alt"] == "A harbour"
    assert not Article.objects.exists()


def test_the_live_checklist_takes_an_image_from_the_picker_as_the_save_will(client, editor):
    """The picker writes data-file, which the save turns into the library's id: the live
    checklist reads the body the same way and does not call it a foreign image."""
    image = ImageFactory(alt_text="A harbour")
    picked = f'<figure><img src="{image.file.url}" alt="" data-file="{image.pk}"></figure>'
    foreign = '<figure><img src="https://elsewhere.example/x.jpg" alt="x"></figure>'

    def body_problems(body):
        answer = client.post(
            "/admin/articles/article/editor/checklist/",
            {"title": "Draft", "body": body, "bylines-TOTAL_FORMS": "0"},
        ).json()
        return [item["message"] for item in answer["items"] if item["field"] == "body"]

    assert body_problems(f"<p>Text.</p>{picked}") == []
    assert body_problems(f"<p>Text.</p>{foreign}") == [
        "Every image in the body must come from the image library."
    ]
