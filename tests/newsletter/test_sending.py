import binascii
import datetime
import time

import pytest
from django.test import override_settings
from django.utils import timezone

from newsletter import sending, services
from newsletter.models import Delivery, Issue, Subscriber
from newsletter.sending.message import TOKEN_SLOT
from tests.factories import IssueFactory, SubscriberFactory
from tests.smtp import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue():
    issue = IssueFactory()
    services.start_sending(issue=issue, enqueue=False)
    return issue


def _deliver(issue):
    sending.create_deliveries(issue)
    return sending.deliver(issue.pk, wait=lambda seconds: None)


def test_deliveries_are_created_once_per_active_subscriber(issue):
    SubscriberFactory.create_batch(3)
    SubscriberFactory(status="pending")
    SubscriberFactory(status="unsubscribed")
    assert sending.create_deliveries(issue) == 3
    assert sending.create_deliveries(issue) == 3


def test_a_batch_claimed_by_one_worker_is_not_given_to_another(issue):
    SubscriberFactory.create_batch(3)
    sending.create_deliveries(issue)
    assert len(sending.claim(issue, worker="a").deliveries) == 3
    assert sending.claim(issue, worker="b") is None


def test_an_expired_claim_is_taken_over_after_one_short_lease(issue, settings):
    SubscriberFactory.create_batch(2)
    sending.create_deliveries(issue)
    sending.claim(issue, worker="dead")
    later = timezone.now() + datetime.timedelta(seconds=settings.NEWSLETTER_CLAIM_SECONDS + 1)
    assert len(sending.claim(issue, worker="b", now=later).deliveries) == 2


def test_the_issue_is_marked_sent_when_every_delivery_is_done(issue, smtp_sink):
    SubscriberFactory.create_batch(3)
    assert _deliver(issue).sent == 3
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT and issue.sent_at is not None
    assert len(smtp_sink.envelopes) == 3


def test_a_temporary_error_is_retried_with_back_off(issue, smtp_sink, settings):
    settings.NEWSLETTER_RETRY_SECONDS = 60
    SubscriberFactory(email="later@example.com")
    smtp_sink.rcpt_reply = lambda address: "451 4.7.1 Greylisted, try again later"
    sending.create_deliveries(issue)
    result = sending.deliver(issue.pk)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.QUEUED
    assert delivery.attempts == 1 and "451" in delivery.error
    assert delivery.next_attempt_at > timezone.now() + datetime.timedelta(seconds=50)
    assert result.retry_at == delivery.next_attempt_at
    smtp_sink.rcpt_reply = None
    Delivery.objects.update(next_attempt_at=timezone.now())
    sending.deliver(issue.pk)
    assert Delivery.objects.get().status == Delivery.Status.SENT
    assert smtp_sink.recipients() == ["later@example.com"]


def test_the_back_off_grows_with_each_attempt(issue, smtp_sink, settings):
    settings.NEWSLETTER_RETRY_SECONDS = 60
    SubscriberFactory()
    smtp_sink.rcpt_reply = lambda address: "452 4.2.2 Mailbox full"
    sending.create_deliveries(issue)
    Delivery.objects.update(attempts=2)
    sending.deliver(issue.pk)
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
        "total": 3, "sent": 2, "failed": 1, "skipped": 0, "cancelled": 0, "remaining": 0,
        "done": 3, "percent": 0,
    }  # fmt: skip


def test_someone_who_unsubscribed_after_the_send_started_is_skipped(issue, smtp_sink):
    SubscriberFactory()
    leaver = SubscriberFactory()
    sending.create_deliveries(issue)
    services.unsubscribe(subscriber=leaver)
    sending.deliver(issue.pk, wait=lambda seconds: None)
    assert smtp_sink.recipients() != [] and leaver.email not in smtp_sink.recipients()
    assert Delivery.objects.get(subscriber=leaver).status == Delivery.Status.SKIPPED


def test_an_unreachable_server_postpones_the_batch_without_spending_attempts(issue, settings):
    from tests.smtp import free_port, mailers_for

    settings.MAILERS = mailers_for(free_port())
    settings.NEWSLETTER_RETRY_SECONDS = 60
    SubscriberFactory()
    sending.create_deliveries(issue)
    result = sending.deliver(issue.pk)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.QUEUED and delivery.attempts == 0
    assert "Connection failed" in delivery.error
    assert result.retry_at > timezone.now()


def test_a_draft_issue_is_not_sent_by_a_stray_worker(smtp_sink):
    draft = IssueFactory()
    SubscriberFactory()
    assert sending.deliver(draft.pk).sent == 0
    assert smtp_sink.envelopes == []


def _fake_clock(monkeypatch):
    clock = {"now": 1000.0, "sleeps": 0}

    def sleep(seconds):
        clock["sleeps"] += 1
        assert clock["sleeps"] < 1000, "the throttle spins"
        clock["now"] += seconds

    monkeypatch.setattr(sending.sender.time, "time", lambda: clock["now"])
    monkeypatch.setattr(sending.sender.time, "sleep", sleep)
    return clock


def test_the_throttle_caps_messages_per_second(monkeypatch):
    clock = _fake_clock(monkeypatch)
    throttle = sending.Throttle(5)
    for _ in range(12):
        throttle.wait()
    assert 1002.0 <= clock["now"] < 1003.0


def test_the_throttle_paces_alone_without_spinning_on_the_dummy_cache(monkeypatch, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    clock = _fake_clock(monkeypatch)
    throttle = sending.Throttle(5)
    for _ in range(11):
        throttle.wait()
    assert clock["now"] == pytest.approx(1002.0)


def test_workers_sharing_the_cache_share_the_throttles_cap(monkeypatch):
    clock = _fake_clock(monkeypatch)
    workers = [sending.Throttle(5), sending.Throttle(5)]
    for n in range(12):
        workers[n % 2].wait()
    assert 1002.0 <= clock["now"] < 1003.0


def test_the_throttle_paces_alone_and_seldom_asks_while_redis_is_down(monkeypatch, caplog):
    gone = {
        "BACKEND": "newsroom.redis_cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/14",  # nothing listens there
    }
    clock = _fake_clock(monkeypatch)
    throttle = sending.Throttle(5)
    started = time.perf_counter()
    with override_settings(CACHES={"default": gone}):
        for _ in range(11):
            throttle.wait()
        assert clock["now"] == pytest.approx(1002.0)  # 5 a second, this worker alone
        assert time.perf_counter() - started < 5  # one failed try, not one per message
        assert caplog.text.count("The cache cannot count") == 1
        clock["now"] += sending.Throttle.ALONE_SECONDS
        throttle.wait()
        assert caplog.text.count("The cache cannot count") == 2  # asks again, later


def test_claims_read_on_past_the_last_claimed_row(issue):
    SubscriberFactory.create_batch(3)
    sending.create_deliveries(issue)
    first, second, third = Delivery.objects.order_by("pk")
    claimed = sending.claim(issue, worker="a", after=first.pk)
    assert [d.pk for d in claimed.deliveries] == [second.pk, third.pk]


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
    result = sending.deliver(issue.pk)
    assert result.done and result.sent == 3
    assert sorted(smtp_sink.recipients())[0] == "greylisted@example.com"


@pytest.mark.parametrize(
    "text",
    [
        f"Unsubscribe: {TOKEN_SLOT}\n",
        "A line long enough to need soft line breaks in quoted-printable, and then some "
        f"more words, {TOKEN_SLOT}, and still more words after the token here.\n",
        f"trailing blanks   \n.\n{TOKEN_SLOT}\t\n. starts with a dot\nCafé = ½\n",
        f"no newline at the end {TOKEN_SLOT}",
        "a\n\n" * 3 + f"<a href=3D'x?t={TOKEN_SLOT}'>x</a>\nend",
    ],
)
def test_a_body_encoded_ahead_of_time_matches_encoding_it_whole(text):
    token = "eyJzIjoxLCJoIjoiZTZmOTAyZTkxMDYzIn0:1xWFxN:GlFktY4MuF8AA3Ql2jXkkeqEyQZKt84PIwy"
    prepared = sending.PreparedRoundup(
        subject="s", from_email="a@example.com", text=text, html="<p>x</p>", head=b"",
        boundary="b", list_id="l",
    )  # fmt: skip
    raw = prepared.message_for(Subscriber(pk=1, email="r@example.com"), token=token).raw
    whole = binascii.b2a_qp(text.replace(TOKEN_SLOT, token).encode(), istext=True)
    whole = whole.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert b"quoted-printable\r\n\r\n" + whole + b"\r\n--b" in raw
