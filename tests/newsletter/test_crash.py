"""Acceptance: an interrupted send resumes, and every subscriber gets the issue exactly once."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from newsletter import sending, services
from newsletter.models import Delivery, Issue, Subscriber
from newsletter.tasks import run_deliveries
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
def test_a_killed_worker_is_taken_over_and_nobody_gets_two(smtp_sink, settings):
    settings.NEWSLETTER_CLAIM_SECONDS = 2
    settings.NEWSLETTER_BATCH_SIZE = 150  # so the 400th message is in the middle of a batch
    _subscribers()
    issue = _issue_ready_to_send()
    sent = 0

    def die_after_400(outcome):
        nonlocal sent
        sent += 1
        if sent == 400:
            raise WorkerKilled

    with pytest.raises(WorkerKilled):
        run_deliveries(issue.pk, on_progress=die_after_400)
    assert len(smtp_sink.envelopes) == 400
    # The dead worker's lease still holds the rest of its batch; the next worker waits it out.
    assert Delivery.objects.filter(status="queued", claimed_until__isnull=False).exists()

    run_deliveries(issue.pk)

    _assert_each_received_once(smtp_sink, issue)


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

    run_deliveries(issue.pk)

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
            per_worker[name] = run_deliveries(issue.pk)["sent"]
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


@pytest.mark.django_db
def test_a_worker_killed_outright_resends_at_most_one_group_of_marks(
    smtp_sink, settings, monkeypatch
):
    """Killed between the server's acceptance and the mark: only that group goes twice."""
    settings.NEWSLETTER_CLAIM_SECONDS = 2
    settings.NEWSLETTER_BATCH_SIZE = 150
    _subscribers()
    issue = _issue_ready_to_send()
    mark_sent = sending.mark_sent
    groups = 0

    def dies_at_the_tenth_group(delivery_ids, *, worker):
        # The process is gone: neither this group nor the one in `finally` reaches the
        # database.
        nonlocal groups
        groups += 1
        if groups >= 10:
            raise WorkerKilled
        return mark_sent(delivery_ids, worker=worker)

    monkeypatch.setattr(sending, "mark_sent", dies_at_the_tenth_group)
    with pytest.raises(WorkerKilled):
        run_deliveries(issue.pk)
    unmarked = len(smtp_sink.envelopes) - Delivery.objects.filter(status="sent").count()
    assert unmarked == sending.MARK_SENT_EVERY
    monkeypatch.setattr(sending, "mark_sent", mark_sent)

    run_deliveries(issue.pk)

    counts = Counter(rcpt for _, rcpts, _ in smtp_sink.envelopes for rcpt in rcpts)
    assert len(counts) == SUBSCRIBERS
    assert sum(counts.values()) == SUBSCRIBERS + sending.MARK_SENT_EVERY
    assert set(counts.values()) == {1, 2}
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT and issue.progress()["sent"] == SUBSCRIBERS
