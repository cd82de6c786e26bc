"""The admin index is the editors' desk, under the publication's name."""

from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import Note
from tests.factories import (
    ArticleFactory,
    ContributorFactory,
    EditorFactory,
    IssueFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


def panel(html, panel_id):
    return html.split(f'id="desk-{panel_id}"', 1)[1].split('<div class="module', 1)[0]


def desk_html(client, user):
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_desk_shows_the_newsrooms_work_in_progress(client):
    editor = EditorFactory()
    now = timezone.now()
    ArticleFactory(title="My own draft", created_by=editor)
    ArticleFactory(title="Someone else's draft")
    ArticleFactory(title="Please check me", status="review")
    ArticleFactory(
        title="Tomorrow morning", status="scheduled", publish_at=now + timedelta(hours=20)
    )
    ArticleFactory(title="Next week", status="scheduled", publish_at=now + timedelta(days=5))
    fresh = ArticleFactory(
        title="Out this hour", published=True, publish_at=now - timedelta(seconds=5)
    )
    Note.objects.create(article=fresh, kind="correction", text="The minister's name was misspelt.")
    html = desk_html(client, editor)
    assert "My own draft" in panel(html, "my-drafts")
    assert "Someone else" not in panel(html, "my-drafts")
    assert "Please check me" in panel(html, "in-review")
    scheduled = panel(html, "scheduled")
    assert "Tomorrow morning" in scheduled and "Next week" not in scheduled
    assert timezone.localtime(now + timedelta(hours=20)).strftime("%H:%M") in scheduled
    assert "Out this hour" in panel(html, "published-today")
    assert "misspelt" in panel(html, "corrections")


def test_the_desk_shows_the_next_round_up_for_newsletter_editors(client):
    from django.contrib.auth.models import Group

    IssueFactory(subject="Friday round-up", articles=[ArticleFactory(published=True)])
    newsletter_editor = StaffFactory()
    newsletter_editor.groups.add(Group.objects.get(name="Newsletter editor"))
    roundup = panel(desk_html(client, newsletter_editor), "roundup")
    assert "Friday round-up" in roundup and "Draft" in roundup and "1 article" in roundup


def test_a_contributor_sees_only_their_own_work_waiting_for_review(client):
    contributor = ContributorFactory()
    ArticleFactory(title="Not mine", status="review")
    ArticleFactory(title="Mine in review", status="review", created_by=contributor)
    html = desk_html(client, contributor)
    review = panel(html, "in-review")
    assert "Mine in review" in review and "Not mine" not in review
    assert "Front page" not in html.split('class="desk__actions"', 1)[1].split("</div>", 1)[0]


def test_staff_without_an_editorial_role_get_the_plain_index(client):
    html = desk_html(client, StaffFactory())
    assert 'class="desk"' not in html


def test_the_admin_carries_the_publications_name(client, settings):
    html = desk_html(client, EditorFactory())
    assert f"{settings.SITE_NAME}</a>" in html or settings.SITE_NAME in html.split("<h1", 2)[1]
    assert "Django administration" not in html
    assert f"<title>Desk | {settings.SITE_NAME} admin</title>" in html


def test_recent_corrections_list_only_corrections_readers_can_see(client):
    """A correction on an article that is not public (taken down, or not due yet) is on no
    page a reader sees, so the desk's "Recent corrections" leaves it out."""
    editor = EditorFactory()
    now = timezone.now()
    public = ArticleFactory(
        title="Still public", published=True, publish_at=now - timedelta(hours=1)
    )
    withdrawn = ArticleFactory(
        title="Taken down", status="draft", publish_at=now - timedelta(days=1)
    )
    not_due = ArticleFactory(
        title="Out tomorrow", status="scheduled", publish_at=now + timedelta(hours=20)
    )
    for article, text in [
        (public, "The date of the vote was wrong."),
        (withdrawn, "The mayor was misnamed."),
        (not_due, "The figures were swapped."),
    ]:
        Note.objects.create(article=article, kind="correction", text=text)
    corrections = panel(desk_html(client, editor), "corrections")
    assert "Still public" in corrections and "date of the vote" in corrections
    assert "Taken down" not in corrections and "misnamed" not in corrections
    assert "Out tomorrow" not in corrections and "swapped" not in corrections
