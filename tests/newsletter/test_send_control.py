"""Pause, resume and cancel from the admin; the progress page says why a send waits."""

import datetime
import time

import pytest
from django.utils import timezone

from newsletter import sending, services
from newsletter.models import Delivery, Issue
from tests.factories import IssueFactory, SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = UserFactory(is_staff=True, is_superuser=True, email="editor@example.com")
    client.force_login(user)
    return user


@pytest.fixture
def sending_issue():
    SubscriberFactory.create_batch(3)
    issue = IssueFactory()
    services.start_sending(issue=issue, enqueue=False)
    sending.create_deliveries(issue)
    return issue


def test_the_progress_page_shows_the_recipients_just_after_send_not_0_of_0(client, editor):
    SubscriberFactory.create_batch(4)
    issue = IssueFactory()
    services.start_sending(issue=issue, enqueue=False)  # the rows are not created yet
    page = client.get(f"/admin/newsletter/issue/{issue.pk}/progress/")
    assert "<td>4</td>" in page.text  # remaining and total
    assert "Preparing the list of recipients: 4 active subscribers" in page.text


def test_pausing_from_the_admin_stops_the_workers_and_resuming_sends_the_rest_once(
    client, editor, sending_issue, smtp_sink, django_capture_on_commit_callbacks
):
    page = client.get(f"/admin/newsletter/issue/{sending_issue.pk}/progress/")
    assert "Pause" in page.text and "Cancel the send" in page.text
    client.post(f"/admin/newsletter/issue/{sending_issue.pk}/pause-sending/")
    assert Issue.objects.get().status == Issue.Status.PAUSED
    assert sending.deliver(sending_issue.pk).sent == 0  # a worker finds nothing to do
    assert smtp_sink.envelopes == []
    page = client.get(f"/admin/newsletter/issue/{sending_issue.pk}/progress/")
    assert "Paused: no message goes out until you resume" in page.text

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/newsletter/issue/{sending_issue.pk}/resume-sending/")

    assert Issue.objects.get().status == Issue.Status.SENT
    assert sorted(smtp_sink.recipients()) == sorted(
        sending_issue.deliveries.values_list("subscriber__email", flat=True)
    )


def test_a_worker_sees_a_pause_at_its_next_lease_renewal(sending_issue, smtp_sink, settings):
    settings.NEWSLETTER_CLAIM_SECONDS = 1  # renewed every third of a second
    seen = []

    def pause_after_the_first(outcome):
        seen.append(outcome)
        services.pause_sending(issue=sending_issue)
        time.sleep(0.4)

    sending.deliver(sending_issue.pk, on_progress=pause_after_the_first)
    assert seen == ["sent"] and len(smtp_sink.envelopes) == 1
    assert Delivery.objects.filter(status="queued", claimed_until__isnull=True).count() == 2


def test_cancelling_closes_what_is_left_and_nothing_more_goes_out(
    client, editor, sending_issue, smtp_sink
):
    client.post(f"/admin/newsletter/issue/{sending_issue.pk}/cancel-sending/")
    assert Issue.objects.get().status == Issue.Status.CANCELLED
    assert sending.deliver(sending_issue.pk).sent == 0
    assert smtp_sink.envelopes == []
    assert sending_issue.progress()["cancelled"] == 3
    page = client.get(f"/admin/newsletter/issue/{sending_issue.pk}/progress/")
    assert "Cancelled: the messages not sent by then are never sent" in page.text
    assert "Resume" not in page.text


def test_send_controls_need_the_send_permission_and_a_post(client, sending_issue):
    client.force_login(UserFactory(is_staff=True))
    response = client.post(f"/admin/newsletter/issue/{sending_issue.pk}/pause-sending/")
    assert response.status_code == 403
    assert Issue.objects.get().status == Issue.Status.SENDING


def test_a_get_changes_nothing(client, editor, sending_issue):
    client.get(f"/admin/newsletter/issue/{sending_issue.pk}/cancel-sending/")
    assert Issue.objects.get().status == Issue.Status.SENDING


def test_the_progress_page_explains_a_stall_on_the_mail_server(client, editor, sending_issue):
    from tests.smtp import free_port, mailers_for

    with pytest.MonkeyPatch.context() as patch:
        from django.conf import settings

        patch.setattr(settings, "MAILERS", mailers_for(free_port()))
        patch.setattr(settings, "NEWSLETTER_RETRY_SECONDS", 60)
        sending.deliver(sending_issue.pk)
    page = client.get(f"/admin/newsletter/issue/{sending_issue.pk}/progress/")
    assert "The mail server cannot be reached since" in page.text
    assert "3 waiting to try again after a temporary error" in page.text
    assert "Connection refused" in page.text


def test_the_progress_page_explains_rows_held_by_a_worker(client, editor, sending_issue):
    sending.claim(sending_issue, worker="gone")
    page = client.get(f"/admin/newsletter/issue/{sending_issue.pk}/progress/")
    assert "3 being sent by workers now" in page.text
    assert "returns to the queue when its lease ends" in page.text


def test_the_progress_page_names_rows_waiting_for_a_worker(client, editor, sending_issue):
    Delivery.objects.update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
    page = client.get(f"/admin/newsletter/issue/{sending_issue.pk}/progress/")
    assert "3 waiting for a worker" in page.text
