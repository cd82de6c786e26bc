"""Drafts stay with the people the admin shows them to (issue 13, row 1).

An IDOR sweep: every role asks for every admin and preview URL of an article that is
not theirs, in every unpublished state, by id, as an attacker walking sequential ids
would. Only the roles the admin shows the article to may read it.
"""

import pytest
import reversion
from django.contrib.auth.models import Group
from django.utils import timezone
from reversion.models import Version

from articles.models import Article
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    ContributorFactory,
    EditorFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SECRET = "Embargoed: the minister resigns on Friday"


def newsletter_editor():
    user = StaffFactory(username="letters")
    user.groups.add(Group.objects.get(name="Newsletter editor"))
    return user


ROLES = {
    "anonymous": lambda: None,
    "reader": lambda: UserFactory(username="reader"),
    "staff without a role": lambda: StaffFactory(username="bare"),
    "contributor": lambda: ContributorFactory(username="rival"),
    "newsletter editor": newsletter_editor,
    "editor": lambda: EditorFactory(username="chief"),
    "superuser": lambda: StaffFactory(username="root", is_superuser=True),
}
MAY_READ = {"newsletter editor", "editor", "superuser"}


def someone_elses_article(status):
    owner = ContributorFactory(username="owner")
    author = AuthorFactory(user=owner)
    publish_at = timezone.now() + timezone.timedelta(days=2)
    with reversion.create_revision():
        article = ArticleFactory(
            title=SECRET,
            body=f"<p>{SECRET}, sources say.</p>",
            status=status,
            publish_at=publish_at if status == Article.Status.SCHEDULED else None,
            created_by=owner,
            authors=[author],
        )
    with reversion.create_revision():
        article.dek = "A second version"
        article.save()
    return article


def urls_of(article):
    first, second = Version.objects.get_for_object(article).order_by("pk")
    base = f"/admin/articles/article/{article.pk}"
    return [
        f"/preview/{article.pk}/",
        f"{base}/change/",
        f"{base}/delete/",
        f"{base}/history/",
        f"{base}/history/{first.pk}/",
        f"{base}/history/{second.pk}/changes/",
        "/admin/articles/article/",
        f"/admin/articles/article/?q={SECRET.split()[0]}",
        "/admin/autocomplete/?app_label=newsletter&model_name=issuearticle&field_name=article"
        f"&term={SECRET.split()[1]}",
    ]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "status", [Article.Status.DRAFT, Article.Status.REVIEW, Article.Status.SCHEDULED]
)
def test_every_admin_and_preview_url_of_someone_elses_article(client, role, status):
    article = someone_elses_article(status)
    user = ROLES[role]()
    if user is not None:
        client.force_login(user)
    for url in urls_of(article):
        response = client.get(url, follow=True)
        assert response.status_code < 500, url
        if role not in MAY_READ:
            assert SECRET not in response.text, f"{role} read {url}"
    if role in MAY_READ:
        response = client.get(f"/preview/{article.pk}/")
        assert response.status_code == 200
        assert SECRET in response.text


def test_a_draft_preview_answers_404_like_a_missing_id(client):
    article = someone_elses_article(Article.Status.DRAFT)
    client.force_login(ContributorFactory(username="rival"))
    hidden = client.get(f"/preview/{article.pk}/")
    missing = client.get(f"/preview/{article.pk + 1000}/")
    assert hidden.status_code == missing.status_code == 404


def test_a_contributor_previews_their_own_draft(client):
    article = someone_elses_article(Article.Status.DRAFT)
    client.force_login(article.created_by)
    response = client.get(f"/preview/{article.pk}/")
    assert response.status_code == 200
    assert SECRET in response.text


def test_a_preview_is_never_kept_by_a_shared_cache(client):
    article = someone_elses_article(Article.Status.DRAFT)
    client.force_login(EditorFactory(username="chief"))
    response = client.get(f"/preview/{article.pk}/")
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives
    assert "public" not in directives


def test_a_contributor_cannot_recover_someone_elses_deleted_draft(client):
    article = someone_elses_article(Article.Status.DRAFT)
    with reversion.create_revision():
        article.save()
    versions = list(Version.objects.get_for_object(article))
    article.delete()
    client.force_login(ContributorFactory(username="rival"))
    listing = client.get("/admin/articles/article/recover/")
    assert SECRET not in listing.text
    for version in versions:
        response = client.get(f"/admin/articles/article/recover/{version.pk}/", follow=True)
        assert response.status_code < 500
        assert SECRET not in response.text
