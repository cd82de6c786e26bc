"""The fault suite: real workers, a real database and a real mail server, all misbehaving.

Two `manage.py db_worker` processes send a round-up to FAULT_SUBSCRIBERS active
subscribers (2,000 in CI; `bench/send/faults.py` runs 100,000) through a private
PostgreSQL cluster and aiosmtpd, while the test SIGKILLs workers at random moments,
crashes and restarts PostgreSQL (immediate mode: no checkpoint), stops the mail server,
and does all three at once. Nobody runs a command to help. Then every active subscriber
must hold exactly one copy, the others none, and the send must have finished by itself.
FAULT_SEED replays a run; FAULT_REPORT names a file for the counts (JSON).
"""

import json
import os
import random
import time
from collections import Counter

import pytest

from tests.faults import PrivatePostgres, Worker, django_env, manage, postgres_bin, python
from tests.smtp import Sink, start_sink

SUBSCRIBERS = int(os.environ.get("FAULT_SUBSCRIBERS", "2000"))
INELIGIBLE = 30  # each of pending, unsubscribed, bounced
FINISH_WITHIN = float(os.environ.get("FAULT_FINISH_SECONDS", str(180 + SUBSCRIBERS / 50)))
ORPHAN_SECONDS = 15

pytestmark = pytest.mark.skipif(
    postgres_bin() is None, reason="needs PostgreSQL's server binaries (Debian postgresql)"
)


@pytest.fixture
def private_postgres():
    server = PrivatePostgres()
    server.init()
    yield server
    server.destroy()


@pytest.fixture
def workers():
    """The test's worker processes by name; whatever happens, none outlives the test."""
    running = {}
    yield running
    for worker in running.values():
        worker.kill()


class MailServer:
    """aiosmtpd on one port that can be stopped and started again, keeping its counts."""

    def __init__(self):
        self.sink, self.controller = start_sink(Sink())
        self.port = self.controller.port
        self.stops = 0

    def stop(self):
        self.controller.stop()
        self.stops += 1

    def start(self):
        self.sink, self.controller = start_sink(self.sink, port=self.port)


def _query(server, sql, params=None, *, attempts=60):
    """A query that waits out the outages the test itself causes."""
    for _ in range(attempts):
        try:
            return server.query(sql, params)
        except Exception:
            time.sleep(0.5)
    raise AssertionError(f"the private database did not answer: {sql}")


SEED = """
from newsletter.models import Subscriber
from tests.factories import IssueFactory
Subscriber.objects.bulk_create(
    [Subscriber(email=f"reader{{i}}@example.com", status="active") for i in range({n})]
    + [Subscriber(email=f"{{status}}{{i}}@example.com", status=status)
       for status in ("pending", "unsubscribed", "bounced") for i in range({m})],
    batch_size=5000,
)
print(IssueFactory().pk)
"""


def test_every_subscriber_gets_exactly_one_copy_through_kills_restarts_and_outages(
    private_postgres, workers, tmp_path
):
    seed = int(os.environ.get("FAULT_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    pg = private_postgres
    mail = MailServer()
    env = django_env(
        pg.url,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=mail.port,
        NEWSLETTER_MAX_PER_SECOND=0,
        NEWSLETTER_CLAIM_SECONDS=3,
        NEWSLETTER_RETRY_SECONDS=1,
        NEWSLETTER_TASK_SECONDS=5,
        NEWSLETTER_CONFIRMATION_RETRY_SECONDS=1,
        TASK_WORKER_HOUSEKEEPING_SECONDS=1,
        TASK_ORPHAN_SECONDS=ORPHAN_SECONDS,
        NEWSLETTER_JOURNAL_DIR=tmp_path / "journal",
    )
    manage(env, "migrate", "--noinput")
    issue_id = int(python(env, SEED.format(n=SUBSCRIBERS, m=INELIGIBLE)).stdout.split()[-1])
    workers.update({name: Worker(env, tmp_path, name).start() for name in ("a", "b")})
    events = {"seed": seed, "worker_kills": 0, "database_restarts": 0, "mail_server_stops": 0}

    # Idle workers outlive a database outage (they used to exit on OperationalError).
    time.sleep(2)
    pg.restart(down_for=3)
    events["database_restarts"] += 1
    time.sleep(2)
    assert all(w.alive() for w in workers.values()), "a worker exited on a database outage"

    # A reader signs up while the mail server is down: the confirmation must still come.
    mail.stop()
    python(env, "from newsletter import services\n"
                "services.request_subscription(email='late@example.com', source='faults')")  # fmt: skip
    time.sleep(3)
    mail.start()

    python(env, f"from newsletter import services\nfrom newsletter.models import Issue\n"
                f"assert services.start_sending(issue=Issue.objects.get(pk={issue_id}))")  # fmt: skip
    started = time.monotonic()

    def done_share():
        [(finished,)] = _query(
            pg,
            "SELECT count(*) FROM newsletter_delivery WHERE issue_id = %s AND status <> 'queued'",
            [issue_id],
        )
        return finished / SUBSCRIBERS

    def kill_and_restart(name):
        time.sleep(rng.random() * 0.3)  # a random moment, not a quiet one
        workers[name].kill()
        events["worker_kills"] += 1
        workers[name] = Worker(env, tmp_path, name).start()

    def all_together():
        workers["a"].kill()
        events["worker_kills"] += 1
        mail.stop()
        pg.restart(down_for=2)
        events["database_restarts"] += 1
        workers["a"] = Worker(env, tmp_path, "a").start()
        time.sleep(2)
        mail.start()

    def database_crash():
        pg.restart(down_for=2)
        events["database_restarts"] += 1

    def mail_outage():
        mail.stop()
        time.sleep(3)
        mail.start()

    faults = [
        (0.10 + rng.random() * 0.05, lambda: kill_and_restart(rng.choice("ab"))),
        (0.25 + rng.random() * 0.05, database_crash),
        (0.40 + rng.random() * 0.05, mail_outage),
        (0.55 + rng.random() * 0.05, lambda: kill_and_restart(rng.choice("ab"))),
        (0.70 + rng.random() * 0.05, all_together),
        (0.85 + rng.random() * 0.05, lambda: kill_and_restart("b")),
    ]
    timeline = []
    while faults and time.monotonic() - started < FINISH_WITHIN:
        share = done_share()
        timeline.append((round(time.monotonic() - started, 1), round(share, 3)))
        if share >= faults[0][0]:
            timeline.append(("fault", faults[0][0]))
            faults.pop(0)[1]()
        time.sleep(0.05)
    with open(os.environ.get("FAULT_TIMELINE", os.devnull), "w") as out:
        json.dump(timeline, out)
    assert not faults, f"the send stalled before its faults were all tried (seed {seed})"

    status = None
    while time.monotonic() - started < FINISH_WITHIN:
        [(status,)] = _query(pg, "SELECT status FROM newsletter_issue WHERE id = %s", [issue_id])
        if status == "sent":
            break
        time.sleep(0.5)
    seconds = time.monotonic() - started
    assert status == "sent", f"the send did not finish on its own in {FINISH_WITHIN} s"

    copies = Counter(rcpt for _, rcpts, _ in mail.sink.envelopes for rcpt in rcpts)
    [(from_journals,)] = _query(
        pg,
        "SELECT count(*) FROM newsletter_delivery WHERE issue_id = %s AND status = 'sent' "
        "AND error LIKE 'Recorded from the journal%%'",
        [issue_id],
    )
    # Rows recorded from a dead worker's journal: handed over (the final dot was sent),
    # the server's answer never read. If the mail server died in that same instant
    # without keeping the message, nothing can know it was lost (README, "the one window").
    from_journal = {
        email
        for (email,) in _query(
            pg,
            "SELECT s.email FROM newsletter_delivery d JOIN newsletter_subscriber s "
            "ON s.id = d.subscriber_id WHERE d.issue_id = %s "
            "AND d.error LIKE 'Recorded from the journal%%'",
            [issue_id],
        )
    }
    [(not_sent,)] = _query(
        pg,
        "SELECT count(*) FROM newsletter_delivery WHERE issue_id = %s AND status <> 'sent'",
        [issue_id],
    )
    eligible = {f"reader{i}@example.com" for i in range(SUBSCRIBERS)}
    duplicates = {email: n for email, n in copies.items() if n > 1 and email in eligible}
    missing = {email for email in eligible if copies[email] == 0}
    strangers = {email for email in copies if email not in eligible | {"late@example.com"}}
    report = {
        **events,
        "mail_server_stops": mail.stops,
        "subscribers": SUBSCRIBERS,
        "copies_of_the_round_up": sum(n for e, n in copies.items() if e in eligible),
        "duplicates": len(duplicates),
        "missing": len(missing),
        "rows_not_sent": not_sent,
        "sends_recorded_from_a_journal": from_journals,
        "lost_with_the_mail_server_in_the_same_instant": len(missing & from_journal),
        "seconds_to_finish": round(seconds, 1),
    }
    print(json.dumps(report))
    if os.environ.get("FAULT_REPORT"):
        with open(os.environ["FAULT_REPORT"], "w") as out:
            json.dump(report, out, indent=2)

    assert not strangers, f"ineligible addresses were mailed: {sorted(strangers)[:5]}"
    assert not duplicates, f"two copies (seed {seed}): {sorted(duplicates.items())[:5]}"
    lost = missing - from_journal
    assert not lost, f"never got it (seed {seed}): {sorted(lost)[:5]}"
    assert not_sent == 0
    assert copies["late@example.com"] == 1, "the confirmation sent while SMTP was down never came"

    # Tasks whose worker was killed do not stay RUNNING for ever.
    deadline = time.monotonic() + ORPHAN_SECONDS + 20
    running = None
    while time.monotonic() < deadline:
        [(running,)] = _query(
            pg, "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING'"
        )
        if running == 0:
            break
        time.sleep(1)
    assert running == 0, "task rows of killed workers stayed RUNNING"
    assert all(w.alive() for w in workers.values())
    for worker in workers.values():
        worker.stop()
    mail.stop()
