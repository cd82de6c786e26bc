import io

import pytest
from django.core.management import CommandError, call_command

from newsletter.models import Issue
from tests.factories import IssueFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def test_send_roundup_sends_to_every_active_subscriber_with_a_progress_bar(smtp_sink):
    SubscriberFactory.create_batch(5)
    SubscriberFactory(status="pending")
    issue = IssueFactory()
    out, err = io.StringIO(), io.StringIO()
    call_command("send_roundup", issue.pk, stdout=out, stderr=err)
    assert len(smtp_sink.envelopes) == 5
    assert "5 sent, 0 failed" in out.getvalue()
    assert "5/5" in err.getvalue()
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


def test_send_roundup_refuses_an_issue_already_sent(smtp_sink):
    issue = IssueFactory()
    SubscriberFactory()
    call_command("send_roundup", issue.pk, "--no-progress", stdout=io.StringIO())
    with pytest.raises(CommandError, match="sent once only"):
        call_command("send_roundup", issue.pk, stdout=io.StringIO())
    assert len(smtp_sink.envelopes) == 1


def test_send_roundup_resumes_an_interrupted_issue(smtp_sink):
    from newsletter import sending, services

    SubscriberFactory.create_batch(3)
    issue = IssueFactory()
    services.start_sending(issue=issue, enqueue=False)
    sending.create_deliveries(issue)
    issue.deliveries.filter(pk=issue.deliveries.first().pk).update(status="sent")
    call_command("send_roundup", issue.pk, "--no-progress", stdout=io.StringIO())
    assert len(smtp_sink.envelopes) == 2


def test_send_roundup_names_a_missing_issue():
    with pytest.raises(CommandError, match="no issue 999"):
        call_command("send_roundup", 999)


def test_draft_roundup_reports_what_it_did():
    from tests.factories import ArticleFactory

    out = io.StringIO()
    call_command("draft_roundup", stdout=out)
    assert "nothing drafted" in out.getvalue()
    ArticleFactory(published=True)
    call_command("draft_roundup", stdout=out)
    call_command("draft_roundup", stdout=out)
    assert "Drafted" in out.getvalue() and "already drafted" in out.getvalue()
    assert Issue.objects.count() == 1
