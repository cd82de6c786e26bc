import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from newsletter.models import Issue, Subscriber
from tests.factories import IssueFactory, StaffFactory, SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = UserFactory(is_staff=True, is_superuser=True, email="editor@example.com")
    client.force_login(user)
    return user


def test_preview_shows_the_html_and_the_plain_text(client, editor):
    issue = IssueFactory()
    article = issue.items.get().article
    html = client.get(f"/admin/newsletter/issue/{issue.pk}/preview/html/")
    text = client.get(f"/admin/newsletter/issue/{issue.pk}/preview/text/")
    assert article.title in html.text and "<table" in html.text
    assert text["Content-Type"].startswith("text/plain") and article.title in text.text


def test_send_a_test_to_myself(client, editor):
    issue = IssueFactory()
    response = client.post(f"/admin/newsletter/issue/{issue.pk}/send-test/", follow=True)
    assert "on its way to editor@example.com" in response.text
    [message] = mail.outbox
    assert message.to == ["editor@example.com"]
    assert message.subject == f"[Test] {issue.subject}"
    assert Issue.objects.get().status == Issue.Status.DRAFT


def test_send_to_all_asks_for_confirmation_first(
    client, editor, django_capture_on_commit_callbacks
):
    SubscriberFactory.create_batch(2)
    issue = IssueFactory()
    page = client.get(f"/admin/newsletter/issue/{issue.pk}/send/")
    assert "Send to 2 subscribers" in page.text
    with django_capture_on_commit_callbacks(execute=True):
        unconfirmed = client.post(f"/admin/newsletter/issue/{issue.pk}/send/", {})
    assert unconfirmed.status_code == 200
    assert Issue.objects.get().status == Issue.Status.DRAFT and mail.outbox == []


def test_send_to_all_sends_once_and_shows_progress(
    client, editor, django_capture_on_commit_callbacks
):
    SubscriberFactory.create_batch(2)
    issue = IssueFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/newsletter/issue/{issue.pk}/send/", {"confirm": "on"}, follow=True
        )
    assert len(mail.outbox) == 2
    assert "<progress" in response.text and "Sent" in response.text
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(
            f"/admin/newsletter/issue/{issue.pk}/send/", {"confirm": "on"}, follow=True
        )
    assert "sent once only" in again.text
    assert len(mail.outbox) == 2
    change = client.get(f"/admin/newsletter/issue/{issue.pk}/change/")
    assert "Send to all" not in change.text and "Sending progress" in change.text


def test_the_progress_page_refreshes_itself_while_sending(client, editor):
    issue = IssueFactory(status=Issue.Status.SENDING)
    assert (
        'http-equiv="refresh"' in client.get(f"/admin/newsletter/issue/{issue.pk}/progress/").text
    )
    Issue.objects.update(status=Issue.Status.SENT)
    assert (
        'http-equiv="refresh"'
        not in client.get(f"/admin/newsletter/issue/{issue.pk}/progress/").text
    )


def test_sending_needs_the_send_permission(client):
    user = StaffFactory()
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_issue", "change_issue"])
    )
    client.force_login(user)
    issue = IssueFactory()
    assert (
        client.post(f"/admin/newsletter/issue/{issue.pk}/send/", {"confirm": "on"}).status_code
        == 403
    )
    assert Issue.objects.get().status == Issue.Status.DRAFT


def test_a_sent_issue_cannot_be_edited(client, editor):
    issue = IssueFactory(status=Issue.Status.SENT)
    client.post(f"/admin/newsletter/issue/{issue.pk}/change/", {"subject": "Changed", "intro": "x"})
    assert Issue.objects.get().subject == issue.subject


def test_the_subscriber_list_shows_counts_by_status_and_a_chart(
    client, editor, django_assert_max_num_queries
):
    SubscriberFactory.create_batch(3)
    SubscriberFactory(status="pending")
    with django_assert_max_num_queries(15):
        response = client.get("/admin/newsletter/subscriber/")
    assert response.status_code == 200
    assert "<svg" in response.text and "Sign-ups" in response.text
    counts = {row["value"]: row["count"] for row in response.context["status_counts"]}
    assert counts == {"pending": 1, "active": 3, "unsubscribed": 0, "bounced": 0}


def test_the_subscriber_list_filters_by_status_and_searches(client, editor):
    SubscriberFactory(email="findme@example.com")
    SubscriberFactory(email="other@example.com", status="pending")
    assert "findme@" in client.get("/admin/newsletter/subscriber/?q=findme").text
    filtered = client.get("/admin/newsletter/subscriber/?status__exact=pending")
    assert list(filtered.context["cl"].result_list) == [Subscriber.objects.get(status="pending")]


def test_the_subscriber_list_has_no_date_hierarchy_but_a_signed_up_filter(client, editor):
    SubscriberFactory()
    response = client.get("/admin/newsletter/subscriber/")
    assert response.context["cl"].date_hierarchy is None
    assert "signed_up_at__gte" in response.text


def test_the_subscriber_counts_are_cached_for_a_minute(
    client, editor, django_assert_max_num_queries
):
    SubscriberFactory.create_batch(2)
    client.get("/admin/newsletter/subscriber/")
    SubscriberFactory(status="pending")
    with django_assert_max_num_queries(6):  # session, user, page, count: no stats queries
        response = client.get("/admin/newsletter/subscriber/")
    counts = {row["value"]: row["count"] for row in response.context["status_counts"]}
    assert counts["active"] == 2 and counts["pending"] == 0
    assert len(response.context["cl"].result_list) == 3  # the list itself is live


def test_subscriber_search_matches_the_start_of_an_address_in_any_case(client, editor):
    SubscriberFactory(email="Amira.Abbasi@example.com")
    SubscriberFactory(email="samira@example.com")
    response = client.get("/admin/newsletter/subscriber/?q=amira")
    assert [s.email for s in response.context["cl"].result_list] == ["Amira.Abbasi@example.com"]


def test_subscriber_search_with_an_at_sign_is_an_exact_match(client, editor):
    SubscriberFactory(email="ann@example.com")
    SubscriberFactory(email="ann@example.com.au")
    response = client.get("/admin/newsletter/subscriber/?q=ANN@Example.com")
    assert [s.email for s in response.context["cl"].result_list] == ["ann@example.com"]


def test_subscriber_search_treats_like_wildcards_literally(client, editor):
    SubscriberFactory(email="a_b@example.com")
    SubscriberFactory(email="axb@example.com")
    response = client.get("/admin/newsletter/subscriber/?q=a_b")
    assert [s.email for s in response.context["cl"].result_list] == ["a_b@example.com"]
    assert list(client.get("/admin/newsletter/subscriber/?q=%25").context["cl"].result_list) == []


def test_csv_export_follows_the_current_filter(client, editor):
    SubscriberFactory(email="a@example.com")
    SubscriberFactory(email="p@example.com", status="pending")
    response = client.get("/admin/newsletter/subscriber/export/?status__exact=active")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:2] == ["email", "status"]
    assert [row[0] for row in rows[1:]] == ["a@example.com"]


def test_csv_import_adds_consented_rows_as_active_and_reports_rejections(
    client, editor, django_capture_on_commit_callbacks
):
    SubscriberFactory(email="Already@example.com")
    data = (
        b"email,consent\n"
        b"yes@example.com,yes\n"
        b"maybe@example.com,\n"
        b"not an email,yes\n"
        b"already@EXAMPLE.com,yes\n"
        b"YES@example.com,yes\n"
    )
    upload = SimpleUploadedFile("list.csv", data, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/newsletter/subscriber/import/", {"file": upload, "source": "Press Ball sheet"}
        )
    assert "1 added as active, 1 added as pending, 3 rejected" in response.text
    assert "not a valid email address" in response.text
    assert "already on the list" in response.text and "appears earlier in the file" in response.text
    assert Subscriber.objects.get(email="yes@example.com").status == Subscriber.Status.ACTIVE
    assert Subscriber.objects.get(email="maybe@example.com").status == Subscriber.Status.PENDING
    assert [m.to for m in mail.outbox] == [["maybe@example.com"]]


def test_a_csv_without_an_email_column_is_refused_whole(client, editor):
    upload = SimpleUploadedFile("list.csv", b"name\nAnn\n", content_type="text/csv")
    response = client.post("/admin/newsletter/subscriber/import/", {"file": upload, "source": "x"})
    assert "email" in response.text and "column" in response.text
    assert not Subscriber.objects.exists()


def test_csv_import_with_a_260_character_address_names_its_line_and_adds_it_nowhere(client, editor):
    long_address = f"{'a' * 60}.{'b' * 60}@{'c' * 63}.{'d' * 63}.example.com"
    assert len(long_address) > 254
    data = f"email,consent\nfirst@example.com,yes\n{long_address},yes\n".encode()
    upload = SimpleUploadedFile("list.csv", data, content_type="text/csv")
    response = client.post("/admin/newsletter/subscriber/import/", {"file": upload, "source": "x"})
    assert response.status_code == 200
    assert "1 added as active, 0 added as pending, 1 rejected" in response.text
    assert "<td>3</td>" in response.text and "longer than 254 characters" in response.text
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["first@example.com"]


def test_csv_import_refused_by_the_database_names_the_line_and_keeps_nothing(
    client, editor, monkeypatch
):
    from django.db import DataError

    real_create = Subscriber.objects.create

    def create(**kwargs):
        if kwargs["email"] == "third@example.com":
            raise DataError("value too long for type character varying(254)")
        return real_create(**kwargs)

    monkeypatch.setattr(Subscriber.objects, "create", create)
    data = b"email,consent\nfirst@example.com,yes\nsecond@example.com,no\nthird@example.com,yes\n"
    upload = SimpleUploadedFile("list.csv", data, content_type="text/csv")
    response = client.post("/admin/newsletter/subscriber/import/", {"file": upload, "source": "x"})
    assert response.status_code == 200
    assert "Line 4" in response.text and "nothing was imported" in response.text
    assert not Subscriber.objects.exists()
    assert not mail.outbox


def test_imported_rows_are_confirmed_no_earlier_than_they_signed_up(client, editor):
    upload = SimpleUploadedFile(
        "list.csv", b"email,consent\nann@example.com,yes\n", content_type="text/csv"
    )
    client.post("/admin/newsletter/subscriber/import/", {"file": upload, "source": "x"})
    subscriber = Subscriber.objects.get()
    assert subscriber.signed_up_at <= subscriber.confirmed_at
