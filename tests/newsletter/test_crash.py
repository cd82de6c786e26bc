"""Acceptance: an interrupted send resumes, and every subscriber gets the issue exactly once."""

import threading
import time
from collections import Counter

import pytest
from django.db import OperationalError, connection, connections

from newsletter import sending, services
from newsletter.models import Delivery, Issue, Subscriber
from newsletter.sending import ledger
from newsletter.sending.sender import HandOver
from tests.factories import IssueFactory

SUBSCRIBERS = 1000


class WorkerKilled(Exception):
    pass


def _subscribers(count=SUBSCRIBERS):
    Subscriber.objects.bulk_create(
        Subscriber(email=f"reader{i}@example.com", status=Subscriber.Status.ACTIVE)
        for i in range(count)
    )


def _issue_ready_to_send():
    issue = IssueFactory()
    assert services.start_sending(issue=issue, enqueue=False)
    sending.create_deliveries(issue)
    return issue


def _deliver(issue_id, **kwargs):
    return sending.deliver(issue_id, wait=time.sleep, **kwargs)


def _assert_each_received_once(sink, issue):
    counts = Counter(rcpt for _, rcpts, _ in sink.envelopes for rcpt in rcpts)
    assert len(counts) == SUBSCRIBERS
    assert set(counts.values()) == {1}
    message_ids = {message["Message-ID"] for message in sink.messages()}
    assert len(message_ids) == SUBSCRIBERS
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert issue.progress()["sent"] == SUBSCRIBERS


@pytest.mark.django_db
def test_a_worker_killed_before_its_hand_over_is_taken_over_and_nobody_gets_two(
    smtp_sink, settings, monkeypatch
):
    settings.NEWSLETTER_CLAIM_SECONDS = 2
    settings.NEWSLETTER_BATCH_SIZE = 150  # so the 400th message is in the middle of a batch
    _subscribers()
    issue = _issue_ready_to_send()
    begin = HandOver.begin
    calls = 0

    def dies_while_writing_the_400th(self, message):
        nonlocal calls
        calls += 1
        if calls == 400:
            self.mailer.connection.send(b"MAIL FROM:<x@example.com>\r\n")  # half-way through
            raise WorkerKilled
        return begin(self, message)

    monkeypatch.setattr(HandOver, "begin", dies_while_writing_the_400th)
    with pytest.raises(WorkerKilled):
        _deliver(issue.pk)
    monkeypatch.setattr(HandOver, "begin", begin)
    assert len(smtp_sink.envelopes) == 399
    # The dead worker's lease still holds the rest of its batch, for one short lease.
    assert Delivery.objects.filter(status="queued", claimed_until__isnull=False).exists()

    _deliver(issue.pk)

    _assert_each_received_once(smtp_sink, issue)


@pytest.mark.django_db
def test_a_worker_killed_after_the_servers_answer_is_not_sent_again(
    smtp_sink, settings, monkeypatch
):
    """Killed between the dot and its record in the database: the journal says it went."""
    settings.NEWSLETTER_CLAIM_SECONDS = 2
    _subscribers()
    issue = _issue_ready_to_send()
    record_sent = ledger.record_sent
    answers = 0

    def dies_before_recording_the_400th_answer(lease, ids, **kwargs):
        nonlocal answers
        answers += 1
        if answers == 400:
            raise WorkerKilled
        return record_sent(lease, ids, **kwargs)

    monkeypatch.setattr(ledger, "record_sent", dies_before_recording_the_400th_answer)
    with pytest.raises(WorkerKilled):
        _deliver(issue.pk)
    monkeypatch.setattr(ledger, "record_sent", record_sent)
    assert len(smtp_sink.envelopes) == 400
    assert Delivery.objects.filter(status="sent").count() == 399

    _deliver(issue.pk)

    _assert_each_received_once(smtp_sink, issue)
    [recovered] = Delivery.objects.filter(error__startswith="Recorded from the journal")
    assert recovered.attempts == 1


@pytest.mark.django_db
def test_a_database_failure_after_the_servers_answer_loses_and_doubles_nothing(
    smtp_sink, monkeypatch
):
    _subscribers()
    issue = _issue_ready_to_send()
    record_sent = ledger.record_sent
    calls = 0

    def fails_at_the_300th(lease, ids, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 300:
            raise OperationalError("server closed the connection unexpectedly")
        return record_sent(lease, ids, **kwargs)

    monkeypatch.setattr(ledger, "record_sent", fails_at_the_300th)
    monkeypatch.setattr(sending.sender, "wait_for_database", _reconnect_at_once)

    _deliver(issue.pk)

    _assert_each_received_once(smtp_sink, issue)


def _reconnect_at_once(accepted):
    accepted.record_all()


@pytest.mark.django_db
def test_an_smtp_server_crash_mid_send_loses_and_doubles_nothing(smtp_sink):
    _subscribers()
    issue = _issue_ready_to_send()
    seen = 0

    def crash_once_at_401(envelope):
        nonlocal seen
        seen += 1
        if seen == 401:
            raise ConnectionResetError("the sink fell over")
        return None

    smtp_sink.data_reply = crash_once_at_401

    _deliver(issue.pk)

    assert seen == SUBSCRIBERS + 1  # the message refused by the crash was sent again
    _assert_each_received_once(smtp_sink, issue)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_on_postgresql_never_send_an_address_twice(smtp_sink, settings):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: SQLite has no SELECT … FOR UPDATE SKIP LOCKED and lets one "
            "writer in at a time, so two workers cannot really race there"
        )
    settings.NEWSLETTER_BATCH_SIZE = 50
    _subscribers()
    issue = _issue_ready_to_send()
    errors = []
    per_worker = {}

    def worker(name):
        try:
            per_worker[name] = _deliver(issue.pk).sent
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sum(per_worker.values()) == SUBSCRIBERS
    assert all(per_worker.values()), f"one worker did all the work: {per_worker}"
    _assert_each_received_once(smtp_sink, issue)
