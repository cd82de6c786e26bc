"""The delivery ledger: who may send which row, and what became of it.

Every write to a claimed row is fenced by the lease's token (`Delivery.claimed_by`, new
at each claim): a worker whose lease ran out and was taken over can no longer change
the row. A claim is a synchronous commit (on disk before the first message of the batch
goes); `sent` marks are not (see `record_sent`): the hand-over journal covers them.
"""

import dataclasses
import datetime
import logging
import uuid

from django.conf import settings
from django.core.mail.utils import DNS_NAME
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from newsletter.bounces.services import record_rejection
from newsletter.models import Delivery, Issue, Subscriber
from newsletter.sending import journal

logger = logging.getLogger(__name__)

MAX_BACKOFF = datetime.timedelta(hours=6)
HELD = (Delivery.Status.QUEUED,)


def create_deliveries(issue, *, chunk_size=5000):
    """One queued Delivery per active subscriber; idempotent. Returns the total rows."""
    ids = Subscriber.objects.active().order_by("pk").values_list("pk", flat=True)
    chunk = []
    for subscriber_id in ids.iterator(chunk_size=chunk_size):
        chunk.append(Delivery(issue=issue, subscriber_id=subscriber_id))
        if len(chunk) >= chunk_size:
            Delivery.objects.bulk_create(chunk, ignore_conflicts=True)
            chunk = []
    if chunk:
        Delivery.objects.bulk_create(chunk, ignore_conflicts=True)
    if connection.vendor == "postgresql":
        # Autovacuum notices a bulk insert late; until then the planner thinks the issue
        # has no queued rows and sorts all of them for every claim.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Delivery._meta.db_table)}")
    return issue.deliveries.count()


def lease_length():
    return datetime.timedelta(seconds=settings.NEWSLETTER_CLAIM_SECONDS)


@dataclasses.dataclass
class Lease:
    """A worker's claim on a batch of rows: a token, and until when it holds.

    The worker renews it (`renew`) well before it runs out; once it has run out another
    worker may take the rows over with a new token, and every write below, fenced by
    this token, then changes nothing.
    """

    token: str
    until: datetime.datetime
    deliveries: list

    @property
    def ids(self):
        return [delivery.pk for delivery in self.deliveries]

    def rows(self, *statuses):
        return Delivery.objects.filter(
            pk__in=self.ids, claimed_by=self.token, status__in=statuses or HELD
        )

    def row(self, delivery, *statuses):
        return Delivery.objects.filter(
            pk=delivery.pk, claimed_by=self.token, status__in=statuses or HELD
        )

    def renew(self, *, now=None):
        """Extend the lease on the rows still held; False if none is held any more."""
        until = (now or timezone.now()) + lease_length()
        renewed = (
            self.rows().filter(claimed_until__gt=now or timezone.now()).update(claimed_until=until)
        )
        if renewed:
            self.until = until
        return bool(renewed)

    def release(self, deliveries=None):
        """Give queued rows back untouched, at once (paused, or stopped before their turn)."""
        ids = [d.pk for d in (self.deliveries if deliveries is None else deliveries)]
        Delivery.objects.filter(
            pk__in=ids, claimed_by=self.token, status=Delivery.Status.QUEUED
        ).update(claimed_until=None)


def new_token(worker):
    # The worker's name for the logs and the admin, plus a part unique to this claim.
    return f"{worker[:40]}#{uuid.uuid4().hex[:20]}"


def claim(issue, *, worker, size=None, now=None, after=0):
    """Lease up to `size` due deliveries to `worker`; a Lease (rows with subscribers) or None.

    Rows a stopped worker had leased are first checked against its journal: those it
    handed over are recorded as sent and left out (see journal.py).

    Only rows past the primary key `after` are looked at: a worker reads on from its
    last batch instead of stepping over every row sent so far, which would make each
    claim slower than the one before and a large send quadratic.
    """
    size = size or settings.NEWSLETTER_BATCH_SIZE
    now = now or timezone.now()
    until = now + lease_length()
    token = new_token(worker)
    with transaction.atomic():
        due = Delivery.objects.due(now=now).filter(issue=issue, pk__gt=after).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        previous = dict(due.values_list("pk", "claimed_by")[:size])
        if not previous:
            return None
        # The due() condition again: on SQLite (no row locks) it keeps two workers from
        # both leasing a row; the write lock serialises the two UPDATEs.
        Delivery.objects.due(now=now).filter(pk__in=list(previous)).update(
            claimed_by=token, claimed_until=until
        )
        recovered = _recover_handed_over(previous, token=token, now=now)
    deliveries = list(
        Delivery.objects.filter(
            pk__in=list(previous), claimed_by=token, status=Delivery.Status.QUEUED
        )
        .select_related("subscriber")
        .order_by("pk")
    )
    if recovered:
        logger.warning("Newsletter: %d messages of stopped workers found handed over.", recovered)
    return Lease(token=token, until=until, deliveries=deliveries) if deliveries else None


def _recover_handed_over(previous_tokens, *, token, now):
    """Rows whose last lease's journal shows them handed over become sent. How many."""
    by_token = {}
    for pk, previous in previous_tokens.items():
        if previous:
            by_token.setdefault(previous, []).append(pk)
    recovered = 0
    for previous, ids in by_token.items():
        over = journal.handed_over(previous)
        if over is None:
            if not previous.startswith(host_part()):
                logger.warning(
                    "Newsletter: no journal for the lease %s (another machine?): its rows "
                    "go again, and a message it handed over unrecorded goes twice.",
                    previous,
                )
            continue
        handed = [pk for pk in ids if pk in over]
        if handed:
            recovered += Delivery.objects.filter(
                pk__in=handed, claimed_by=token, status=Delivery.Status.QUEUED
            ).update(
                status=Delivery.Status.SENT,
                sent_at=now,
                attempts=F("attempts") + 1,
                claimed_until=None,
                error=f"Recorded from the journal of {previous}, which stopped after handing "
                "the message over.",
            )
    return recovered


def host_part():
    return DNS_NAME.get_fqdn()[:20]


def record_sent(lease, delivery_ids, *, now=None):
    """Mark rows the server accepted as sent, while this lease still holds them.

    On PostgreSQL this commit does not wait for the disk (synchronous_commit off for
    this transaction only): a commit is kept when the worker dies, and if the database
    server itself crashes and loses it, the row is still `queued` under this lease's
    token and the next claim finds it in this lease's journal.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        marked = Delivery.objects.filter(
            pk__in=list(delivery_ids),
            claimed_by=lease.token,
            status=Delivery.Status.QUEUED,
        ).update(
            status=Delivery.Status.SENT,
            sent_at=now or timezone.now(),
            attempts=F("attempts") + 1,
            claimed_until=None,
            next_attempt_at=None,
            error="",
        )
    if marked < len(delivery_ids):
        logger.error(
            "Newsletter: %d accepted messages were recorded by another worker: %s",
            len(delivery_ids) - marked,
            delivery_ids,
        )
    return marked


def record_skipped(lease, delivery):
    return lease.row(delivery, Delivery.Status.QUEUED).update(
        status=Delivery.Status.SKIPPED, claimed_until=None, error="No longer subscribed."
    )


def record_failed(lease, delivery, *, error, bounced=False, attempted=True):
    """A permanent failure (5xx, or the last try); "no such user" also bounces the address.

    `attempts` is written from the row as claimed, plus this attempt.
    """
    with transaction.atomic():
        updated = lease.row(delivery).update(
            status=Delivery.Status.FAILED,
            attempts=delivery.attempts + int(attempted),
            claimed_until=None,
            error=error[:2000],
        )
        if updated:
            # The server's refusal, under the rules for bounces (newsletter.bounces):
            # "no such user" at once, any other refusal (552, a policy 5xx, 4xx until we
            # gave up) when it happens NEWSLETTER_SOFT_BOUNCE_LIMIT weeks in a row.
            record_rejection(delivery=delivery, error=error, hard=bounced)
    return updated


def record_retry(lease, delivery, *, error, attempted=True):
    """Back to the queue after a back-off; after NEWSLETTER_MAX_ATTEMPTS the delivery fails.

    `attempted=False` (the server could not be reached at all) spends no attempt.
    """
    attempts = delivery.attempts + int(attempted)
    if attempts >= settings.NEWSLETTER_MAX_ATTEMPTS:
        return record_failed(
            lease, delivery, error=f"Gave up after {attempts} tries: {error}", attempted=attempted
        )
    delay = min(
        datetime.timedelta(seconds=settings.NEWSLETTER_RETRY_SECONDS * 2 ** max(attempts - 1, 0)),
        MAX_BACKOFF,
    )
    return lease.row(delivery).update(
        status=Delivery.Status.QUEUED,
        attempts=attempts,
        next_attempt_at=timezone.now() + delay,
        claimed_until=None,
        error=error[:2000],
    )


# ---------------------------------------------------------------------------
# The issue as a whole


def finish_if_done(issue, *, now=None):
    """Mark the issue sent when no row is left to send. True if it is (now) sent."""
    now = now or timezone.now()
    if issue.deliveries.filter(status__in=HELD).exists():
        return False
    return (
        bool(
            Issue.objects.filter(pk=issue.pk, status=Issue.Status.SENDING).update(
                status=Issue.Status.SENT, sent_at=now
            )
        )
        or Issue.objects.filter(pk=issue.pk, status=Issue.Status.SENT).exists()
    )


def next_due_at(issue):
    """The earliest moment a queued row becomes due: its back-off and any lease both over."""
    epoch = Value(datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
    due_at = issue.deliveries.filter(status__in=HELD).aggregate(
        at=Min(Greatest(Coalesce("next_attempt_at", epoch), Coalesce("claimed_until", epoch)))
    )["at"]
    return max(due_at or timezone.now(), timezone.now())


def cancel_queued(issue):
    """A cancelled send: the rows nobody holds are closed at once; held ones by their worker."""
    return issue.deliveries.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=timezone.now()),
        status=Delivery.Status.QUEUED,
    ).update(status=Delivery.Status.CANCELLED, claimed_until=None, error="The send was cancelled.")


def note_mail_server_down(issue, error):
    Issue.objects.filter(pk=issue.pk, mail_server_down_since__isnull=True).update(
        mail_server_down_since=timezone.now()
    )
    Issue.objects.filter(pk=issue.pk).update(mail_server_error=str(error)[:500])


def note_mail_server_up(issue):
    Issue.objects.filter(pk=issue.pk, mail_server_down_since__isnull=False).update(
        mail_server_down_since=None, mail_server_error=""
    )


def explain(issue, *, now=None):
    """Sentences for the progress page: where the send stands and why it may be waiting."""
    now = now or timezone.now()
    status = issue.status
    if status == Issue.Status.DRAFT:
        return []
    if status == Issue.Status.PAUSED:
        lines = ["Paused: no message goes out until you resume. Nobody already sent gets it twice."]
    elif status == Issue.Status.CANCELLED:
        lines = ["Cancelled: the messages not sent by then are never sent."]
    else:
        lines = []
    if status in (Issue.Status.SENDING, Issue.Status.PAUSED) and not issue.deliveries.exists():
        active = Subscriber.objects.active().count()
        lines.append(
            f"Preparing the list of recipients: {active} active subscribers. A worker "
            "(manage.py db_worker) picks this up within seconds."
        )
        return lines
    if status != Issue.Status.SENDING:
        return lines
    held = Q(claimed_until__gt=now)
    counts = issue.deliveries.filter(status__in=HELD).aggregate(
        held=Count("pk", filter=held),
        held_until=Max("claimed_until", filter=held),
        due=Count(
            "pk", filter=~held & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        ),
        waiting=Count("pk", filter=~held & Q(next_attempt_at__gt=now)),
        next_at=Min("next_attempt_at", filter=~held & Q(next_attempt_at__gt=now)),
    )
    if issue.mail_server_down_since:
        lines.append(
            f"The mail server cannot be reached since "
            f"{timezone.localtime(issue.mail_server_down_since):%Y-%m-%d %H:%M:%S} "
            f"({issue.mail_server_error or 'no answer'}). Workers try again with back-off; "
            "nothing is lost."
        )
    if counts["held"]:
        lines.append(
            f"{counts['held']} being sent by workers now. If a worker stopped, its share "
            f"returns to the queue when its lease ends, at the latest "
            f"{timezone.localtime(counts['held_until']):%H:%M:%S} (leases last "
            f"{settings.NEWSLETTER_CLAIM_SECONDS} s and are renewed while a worker lives)."
        )
    if counts["due"]:
        lines.append(
            f"{counts['due']} waiting for a worker: a running manage.py db_worker takes them "
            "within seconds. If this number does not fall, start one."
        )
    if counts["waiting"]:
        last_error = (
            issue.deliveries.filter(status=Delivery.Status.QUEUED, next_attempt_at__gt=now)
            .exclude(error="")
            .values_list("error", flat=True)
            .first()
        )
        lines.append(
            f"{counts['waiting']} waiting to try again after a temporary error, the next at "
            f"{timezone.localtime(counts['next_at']):%H:%M:%S}"
            + (f" (last error: {last_error[:200]})." if last_error else ".")
        )
    if settings.NEWSLETTER_MAX_PER_SECOND:
        lines.append(
            f"Rate cap: at most {settings.NEWSLETTER_MAX_PER_SECOND} messages a second "
            "(NEWSLETTER_MAX_PER_SECOND)."
        )
    return lines
