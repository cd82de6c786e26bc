import datetime

import pytest
from django.db import connection
from django.utils import timezone

from newsletter import sending, services
from newsletter.models import Delivery, Issue, Subscriber
from newsletter.tasks import run_deliveries
from tests.factories import IssueFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue():
    issue = IssueFactory()
    services.start_sending(issue=issue, enqueue=False)
    return issue


def _deliver(issue):
    sending.create_deliveries(issue)
    return run_deliveries(issue.pk, wait=lambda seconds: None)


def test_deliveries_are_created_once_per_active_subscriber(issue):
    SubscriberFactory.create_batch(3)
    SubscriberFactory(status="pending")
    SubscriberFactory(status="unsubscribed")
    assert sending.create_deliveries(issue) == 3
    assert sending.create_deliveries(issue) == 3


def test_a_batch_claimed_by_one_worker_is_not_given_to_another(issue):
    SubscriberFactory.create_batch(3)
    sending.create_deliveries(issue)
    assert len(sending.claim_batch(issue, worker="a")) == 3
    assert sending.claim_batch(issue, worker="b") == []


def test_an_expired_claim_is_taken_over(issue):
    SubscriberFactory.create_batch(2)
    sending.create_deliveries(issue)
    sending.claim_batch(issue, worker="dead")
    later = timezone.now() + datetime.timedelta(hours=1)
    assert len(sending.claim_batch(issue, worker="b", now=later)) == 2


def test_the_issue_is_marked_sent_when_every_delivery_is_done(issue, smtp_sink):
    SubscriberFactory.create_batch(3)
    assert _deliver(issue)["sent"] == 3
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT and issue.sent_at is not None
    assert len(smtp_sink.envelopes) == 3


def test_a_temporary_error_is_retried_with_back_off(issue, smtp_sink, settings):
    settings.NEWSLETTER_RETRY_SECONDS = 60
    SubscriberFactory(email="later@example.com")
    smtp_sink.rcpt_reply = lambda address: "451 4.7.1 Greylisted, try again later"
    sending.create_deliveries(issue)
    result = sending.deliver_pass(issue.pk)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.QUEUED
    assert delivery.attempts == 1 and "451" in delivery.error
    assert delivery.next_attempt_at > timezone.now() + datetime.timedelta(seconds=50)
    assert result.retry_at == delivery.next_attempt_at
    smtp_sink.rcpt_reply = None
    Delivery.objects.update(next_attempt_at=timezone.now())
    sending.deliver_pass(issue.pk)
    assert Delivery.objects.get().status == Delivery.Status.SENT
    assert smtp_sink.recipients() == ["later@example.com"]


def test_the_back_off_grows_with_each_attempt(issue, smtp_sink, settings):
    settings.NEWSLETTER_RETRY_SECONDS = 60
    SubscriberFactory()
    smtp_sink.rcpt_reply = lambda address: "452 4.2.2 Mailbox full"
    sending.create_deliveries(issue)
    Delivery.objects.update(attempts=2)
    sending.deliver_pass(issue.pk)
    delay = Delivery.objects.get().next_attempt_at - timezone.now()
    assert datetime.timedelta(seconds=230) < delay <= datetime.timedelta(seconds=240)


def test_temporary_errors_fail_after_the_last_attempt(issue, smtp_sink, settings):
    settings.NEWSLETTER_MAX_ATTEMPTS = 3
    SubscriberFactory()
    smtp_sink.rcpt_reply = lambda address: "450 4.2.0 Try later"
    _deliver(issue)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 3
    assert Issue.objects.get().status == Issue.Status.SENT


def test_a_permanent_error_fails_the_delivery_but_keeps_the_subscriber(issue, smtp_sink):
    SubscriberFactory()
    smtp_sink.data_reply = lambda envelope: "554 5.7.1 Message rejected as spam"
    _deliver(issue)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and "554" in delivery.error
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown",
        "551 No such user here",
    ],
)
def test_no_such_user_marks_the_subscriber_bounced(issue, smtp_sink, reply):
    SubscriberFactory()
    smtp_sink.rcpt_reply = lambda address: reply
    _deliver(issue)
    assert Delivery.objects.get().status == Delivery.Status.FAILED
    assert Subscriber.objects.get().status == Subscriber.Status.BOUNCED


def test_one_bad_address_does_not_stop_the_batch(issue, smtp_sink):
    SubscriberFactory(email="gone@example.com")
    SubscriberFactory.create_batch(2)
    smtp_sink.rcpt_reply = lambda a: "550 5.1.1 User unknown" if a.startswith("gone") else None
    _deliver(issue)
    assert len(smtp_sink.envelopes) == 2
    assert Issue.objects.get().progress() | {"percent": 0} == {
        "total": 3, "sent": 2, "failed": 1, "skipped": 0, "remaining": 0, "done": 3, "percent": 0
    }  # fmt: skip


def test_someone_who_unsubscribed_after_the_send_started_is_skipped(issue, smtp_sink):
    SubscriberFactory()
    leaver = SubscriberFactory()
    sending.create_deliveries(issue)
    services.unsubscribe(subscriber=leaver)
    run_deliveries(issue.pk, wait=lambda seconds: None)
    assert smtp_sink.recipients() != [] and leaver.email not in smtp_sink.recipients()
    assert Delivery.objects.get(subscriber=leaver).status == Delivery.Status.SKIPPED


def test_an_unreachable_server_postpones_the_batch_without_spending_attempts(issue, settings):
    from tests.smtp import free_port, mailers_for

    settings.MAILERS = mailers_for(free_port())
    settings.NEWSLETTER_RETRY_SECONDS = 60
    SubscriberFactory()
    sending.create_deliveries(issue)
    result = sending.deliver_pass(issue.pk)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.QUEUED and delivery.attempts == 0
    assert "Connection failed" in delivery.error
    assert result.retry_at > timezone.now()


def test_a_draft_issue_is_not_sent_by_a_stray_worker(smtp_sink):
    draft = IssueFactory()
    SubscriberFactory()
    assert sending.deliver_pass(draft.pk).sent == 0
    assert smtp_sink.envelopes == []


def test_the_throttle_caps_messages_per_second(monkeypatch):
    clock = {"now": 1000.0}
    monkeypatch.setattr(sending.time, "time", lambda: clock["now"])
    monkeypatch.setattr(sending.time, "sleep", lambda s: clock.__setitem__("now", clock["now"] + s))
    throttle = sending.Throttle(5)
    for _ in range(12):
        throttle.wait()
    assert 1002.0 <= clock["now"] < 1003.0


def test_a_lease_that_ran_out_is_never_used_to_send(issue, smtp_sink, settings):
    settings.NEWSLETTER_CLAIM_SECONDS = 0
    SubscriberFactory.create_batch(2)
    sending.create_deliveries(issue)
    batch = sending.claim_batch(issue, worker="slow")
    prepared = sending.PreparedRoundup.for_issue(issue)
    sent, _ = sending.send_batch(prepared, batch, worker="slow", throttle=sending.Throttle(0))
    assert sent == 0 and smtp_sink.envelopes == []
    assert Delivery.objects.filter(status="queued", claimed_until__isnull=True).count() == 2


def test_claims_read_on_past_the_last_claimed_row(issue):
    SubscriberFactory.create_batch(3)
    sending.create_deliveries(issue)
    first, second, third = Delivery.objects.order_by("pk")
    claimed = sending.claim_batch(issue, worker="a", after=first.pk)
    assert [d.pk for d in claimed] == [second.pk, third.pk]


def test_a_retry_due_again_behind_the_last_claim_is_sent_in_the_same_pass(
    issue, smtp_sink, settings
):
    settings.NEWSLETTER_BATCH_SIZE = 1
    SubscriberFactory(email="greylisted@example.com")
    SubscriberFactory.create_batch(2)
    refused = []

    def greylist_once(address):
        if address.startswith("greylisted") and not refused:
            refused.append(address)
            return "451 4.7.1 Greylisted, try again later"
        return None

    smtp_sink.rcpt_reply = greylist_once
    sending.create_deliveries(issue)
    result = sending.deliver_pass(issue.pk)
    assert result.done and result.sent == 3
    assert sorted(smtp_sink.recipients())[0] == "greylisted@example.com"


def test_accepted_messages_are_marked_sent_a_group_at_a_time(issue, smtp_sink):
    SubscriberFactory.create_batch(5)
    sending.create_deliveries(issue)
    batch = sending.claim_batch(issue, worker="w")
    prepared = sending.PreparedRoundup.for_issue(issue)
    marked_while_sending = []

    def count_marked(outcome):
        marked_while_sending.append(Delivery.objects.filter(status="sent").count())

    sent, _ = sending.send_batch(
        prepared, batch, worker="w", throttle=sending.Throttle(0), mark_every=2,
        on_progress=count_marked,
    )  # fmt: skip
    assert sent == 5
    assert marked_while_sending == [2, 2, 4, 4, 5]


def test_what_was_sent_is_marked_even_when_the_batch_stops_on_an_error(issue, smtp_sink):
    SubscriberFactory.create_batch(3)
    sending.create_deliveries(issue)
    batch = sending.claim_batch(issue, worker="w")
    prepared = sending.PreparedRoundup.for_issue(issue)

    class Interrupted(BaseException):
        pass

    class InterruptAtThird(sending.Throttle):
        calls = 0

        def wait(self):
            self.calls += 1
            if self.calls == 3:
                raise Interrupted

    with pytest.raises(Interrupted):
        sending.send_batch(prepared, batch, worker="w", throttle=InterruptAtThird(0))
    assert len(smtp_sink.envelopes) == 2
    assert Delivery.objects.filter(status="sent").count() == 2


def _synchronous_commit():
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_commits_of_a_pass_do_not_wait_for_the_disk_on_postgresql(issue, smtp_sink):
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting")
    SubscriberFactory()
    sending.create_deliveries(issue)
    during = []
    assert _synchronous_commit() == "on"
    sending.deliver_pass(issue.pk, on_progress=lambda outcome: during.append(_synchronous_commit()))
    assert during == ["off"]
    assert _synchronous_commit() == "on"


@pytest.mark.parametrize(
    "text",
    [
        f"Unsubscribe: {sending.TOKEN_SLOT}\n",
        "A line long enough to need soft line breaks in quoted-printable, and then some "
        f"more words, {sending.TOKEN_SLOT}, and still more words after the token here.\n",
        f"trailing blanks   \n.\n{sending.TOKEN_SLOT}\t\n. starts with a dot\nCafé = ½\n",
        f"no newline at the end {sending.TOKEN_SLOT}",
        "a\n\n" * 3 + f"<a href=3D'x?t={sending.TOKEN_SLOT}'>x</a>\nend",
    ],
)
def test_a_body_encoded_ahead_of_time_matches_encoding_it_whole(text):
    token = "eyJzIjoxLCJoIjoiZTZmOTAyZTkxMDYzIn0:1xWFxN:GlFktY4MuF8AA3Ql2jXkkeqEyQZKt84PIwy"
    template = sending._qp_template(text)
    assert all(sending.TOKEN_SLOT in part for part in template if isinstance(part, str))
    assert sending._fill_qp(template, token) == sending._qp(text.replace(sending.TOKEN_SLOT, token))
