import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from articles.models import Article
from newsroom.roles import sync_groups
from tests.articles.admin_helpers import article_form_data, change_url
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    ContributorFactory,
    EditorFactory,
    ImageFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db


def codenames(group_name):
    return set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))


def test_migration_creates_the_three_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Contributor", "Editor", "Newsletter editor",
    }  # fmt: skip


def test_editor_may_publish_and_contributor_may_not():
    assert "publish_article" in codenames("Editor")
    assert "publish_article" not in codenames("Contributor")
    assert {"add_article", "change_article"} <= codenames("Contributor")
    assert "delete_article" not in codenames("Contributor")


def test_newsletter_editor_gets_the_newsletter_permissions():
    newsletter = set(
        Permission.objects.filter(content_type__app_label="newsletter").values_list(
            "codename", flat=True
        )
    )
    assert newsletter
    assert newsletter <= codenames("Newsletter editor")
    assert "change_article" not in codenames("Newsletter editor")


def test_permissions_of_an_app_migrated_later_are_added_when_they_appear():
    group = Group.objects.get(name="Newsletter editor")
    group.permissions.clear()
    late = ContentType.objects.get_or_create(app_label="newsletter", model="lateextra")[0]
    permission = Permission.objects.create(codename="view_lateextra", name="x", content_type=late)
    sync_groups(Group, Permission)
    assert permission in group.permissions.all()


def contributor_client(client, contributor=None):
    contributor = contributor or ContributorFactory()
    client.force_login(contributor)
    return client, contributor


def test_contributors_forged_post_to_publish_is_refused(client):
    client, contributor = contributor_client(client)
    article = ArticleFactory(created_by=contributor, lead_image=ImageFactory())
    response = client.post(
        change_url(article),
        article_form_data(
            article, status="published", publish_at_0="2026-01-01", publish_at_1="10:00"
        ),
    )
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        assert response.context["adminform"].form.errors["status"]
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_contributors_forged_post_to_schedule_is_refused(client):
    client, contributor = contributor_client(client)
    article = ArticleFactory(created_by=contributor, lead_image=ImageFactory())
    client.post(
        change_url(article),
        article_form_data(
            article, status="scheduled", publish_at_0="2099-01-01", publish_at_1="10:00"
        ),
    )
    article.refresh_from_db()
    assert (article.status, article.publish_at) == (Article.Status.DRAFT, None)


def test_contributors_forged_publish_action_is_refused(client):
    client, contributor = contributor_client(client)
    article = ArticleFactory(created_by=contributor, lead_image=ImageFactory())
    client.post(
        "/admin/articles/article/",
        {"action": "publish_now", "_selected_action": [article.pk], "confirm": "yes"},
    )
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_contributor_cannot_edit_a_published_article(client):
    client, contributor = contributor_client(client)
    article = ArticleFactory(created_by=contributor, published=True)
    response = client.post(change_url(article), article_form_data(article, title="Changed"))
    assert response.status_code == 403
    article.refresh_from_db()
    assert article.title != "Changed"


def test_contributor_cannot_edit_someone_elses_draft(client):
    client, _ = contributor_client(client)
    article = ArticleFactory()
    response = client.post(change_url(article), article_form_data(article, title="Changed"))
    assert response.status_code in (403, 302)
    article.refresh_from_db()
    assert article.title != "Changed"


def test_contributor_edits_own_draft_and_submits_it(client):
    client, contributor = contributor_client(client)
    article = ArticleFactory(created_by=contributor)
    response = client.post(
        change_url(article), article_form_data(article, title="Better title", status="review")
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.title, article.status) == ("Better title", Article.Status.REVIEW)


def test_contributor_lists_only_own_articles(client):
    author = AuthorFactory()
    client, contributor = contributor_client(client)
    author.user = contributor
    author.save()
    ArticleFactory(title="Mine by byline", authors=[author])
    ArticleFactory(title="Someone else's")
    page = client.get("/admin/articles/article/").content.decode()
    assert "Mine by byline" in page
    assert "Someone else&#x27;s" not in page and "Someone else's" not in page


def test_contributor_does_not_see_publishing_actions(client):
    client, _ = contributor_client(client)
    page = client.get("/admin/articles/article/").content.decode()
    assert "publish_now" not in page
    assert "submit_for_review" in page


def test_contributor_creates_a_draft_owned_by_them(client):
    client, contributor = contributor_client(client)
    section = SectionFactory()
    blank = Article(section=section, title="", kind="news", status="draft")
    data = article_form_data(blank, title="Фоторепортаж из Киева", section=section.pk, slug="")
    data.pop("expected_version")
    response = client.post("/admin/articles/article/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get()
    assert article.created_by == contributor
    assert article.slug == "fotoreportazh-iz-kieva"


def test_editor_can_publish_from_the_form_when_the_checklist_passes(client):
    client.force_login(EditorFactory())
    article = ArticleFactory(lead_image=ImageFactory())
    response = client.post(change_url(article), article_form_data(article, status="published"))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert article.publish_at is not None and article.first_published_at == article.publish_at


def test_publishing_from_the_form_is_refused_while_the_checklist_fails(client):
    client.force_login(EditorFactory())
    article = ArticleFactory(lead_image=ImageFactory(alt_text=""))
    response = client.post(change_url(article), article_form_data(article, status="published"))
    assert response.status_code == 200
    assert "Give the lead image alt text." in response.content.decode()
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_publishing_from_the_form_without_authors_is_refused(client):
    client.force_login(EditorFactory())
    article = ArticleFactory(lead_image=ImageFactory())
    data = article_form_data(article, status="published")
    data["bylines-0-DELETE"] = "on"
    response = client.post(change_url(article), data)
    assert "add at least one author" in response.content.decode()
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
