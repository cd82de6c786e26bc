"""The sender loop: claim a batch, hand each message over, record each answer.

See the package docstring (newsletter/sending/__init__.py) for the protocol.
"""

import contextlib
import dataclasses
import datetime
import logging
import re
import smtplib
import time
import uuid

from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.utils import DNS_NAME
from django.db import DatabaseError, connection
from django.db.models import Min
from django.utils import timezone

from newsletter.models import Issue, Subscriber
from newsletter.sending import journal, ledger
from newsletter.sending.message import PreparedRoundup
from newsroom import ratelimit
from newsroom.mail import envelope_recipient

logger = logging.getLogger("newsletter.sending")

# RFC 3463 5.1.x: bad destination mailbox; plus the wording servers use without it.
NO_SUCH_USER = re.compile(
    rb"5\.1\.[0-6]|no such user|user unknown|unknown user|does not exist|"
    rb"mailbox (is )?unavailable|recipient (address )?rejected|invalid recipient",
    re.IGNORECASE,
)
# An address the SMTP backend's parser would pass through unchanged: plain ASCII, no
# display name, comments, quoting or line breaks.
PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\Z")
LEADING_DOT = re.compile(rb"(?m)^\.")
SMTP_ERRORS = (OSError, smtplib.SMTPException)
DATABASE_RETRY_MAX_SECONDS = 5


def classify(error):
    """(outcome, text) for an SMTP exception: "retry", "failed", "bounced" or "reconnect"."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(error.recipients.values()), (None, b""))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, message = error.smtp_code, error.smtp_error
    else:
        return "reconnect", f"{type(error).__name__}: {error}"
    if isinstance(message, str):
        message = message.encode()
    text = f"{code} {message.decode('utf-8', 'replace')}"
    if code == 421 or code == -1:  # the server is closing, or closed, the connection
        return "reconnect", text
    if code is not None and 400 <= code < 500:
        return "retry", text
    if code in (550, 551, 553) and NO_SUCH_USER.search(message or b""):
        return "bounced", text
    return "failed", text


class HandOver:
    """One SMTP transaction per message, in two steps: all but the final dot, then the dot.

    The server takes a message only at the dot that ends DATA (RFC 5321 4.1.1.4); a
    connection that closes before it leaves nothing behind. `begin()` sends the
    envelope and the content; `finish()` writes the dot, lets the caller journal it
    in the same instant, and reads the answer; `abort()` drops the connection so the
    server discards a message begun. Over Django's SMTP backend the bytes go to its
    smtplib connection, the envelope sender prepared once; any other backend (locmem
    in tests, the file outbox in development) gets send_messages() at `finish()`.
    """

    def __init__(self, mailer, from_email):
        self.mailer = mailer
        self.smtp = isinstance(mailer, SMTPBackend)
        self.envelope_from = mailer.prep_address(from_email) if self.smtp else None
        self.message = None
        self.in_data = False  # between DATA's 354 and the final dot

    def open(self):
        self.mailer.open()
        if self.smtp:
            self.mailer.connection.ehlo_or_helo_if_needed()

    def close(self):
        with contextlib.suppress(SMTP_ERRORS):
            self.mailer.close()

    def abort(self):
        """Drop the connection mid-DATA: the server discards what it has of the message."""
        if self.smtp and self.mailer.connection is not None:
            self.mailer.connection.close()
            self.mailer.connection = None
        self.message = None
        self.in_data = False

    def after_error(self):
        """After a failed message: a connection left inside DATA cannot be reused."""
        if self.in_data:
            self.abort()

    def begin(self, message):
        self.message = message
        if not self.smtp:
            return
        if self.mailer.connection is None:
            self.open()
        smtp = self.mailer.connection
        [to] = message.to
        options = ()
        if not PLAIN_ADDRESS.match(to):  # IDNA, injection checks, SMTPUTF8 (zoë@…)
            to, options = envelope_recipient(self.mailer, smtp, to)
        # Each copy's own envelope sender, when bounces are collected (BOUNCE_DOMAIN).
        envelope_from = getattr(message, "return_path", None) or self.envelope_from
        code, reply = smtp.mail(envelope_from, options)
        if code != 250:
            smtp.rset()
            raise smtplib.SMTPSenderRefused(code, reply, envelope_from)
        code, reply = smtp.rcpt(to)
        if code not in (250, 251):
            smtp.rset()
            raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
        code, reply = smtp.docmd("data")
        if code != 354:
            smtp.rset()
            raise smtplib.SMTPDataError(code, reply)
        self.in_data = True
        content = LEADING_DOT.sub(b"..", message.raw)
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        smtp.send(content)

    def finish(self, *, on_dot, on_no_answer):
        """Write the dot, call `on_dot()` at once, then read the answer.

        `on_no_answer()` follows when the server refuses the message or its answer never
        comes: the message was not taken.
        """
        message, self.message = self.message, None
        if not self.smtp:
            self.mailer.send_messages([message])
            on_dot()
            return
        smtp = self.mailer.connection
        smtp.send(b".\r\n")
        on_dot()
        self.in_data = False
        try:
            code, reply = smtp.getreply()
        except SMTP_ERRORS:
            on_no_answer()
            raise
        if code != 250:
            on_no_answer()
            raise smtplib.SMTPDataError(code, reply)


class Throttle:
    """At most `rate` messages per second across every worker sharing the cache, counted
    in the project's fixed-window counter (newsroom.ratelimit.acquire, a window a second).

    Never spins: a worker over the cap sleeps until the next second. When the cache
    cannot count (the dummy cache, or Redis down) the worker paces itself alone at
    `rate`, a per-process limit (n workers send up to n x rate), and asks the cache again
    only after ALONE_SECONDS: a dead Redis costs one failed try every few seconds, not
    one per message.
    """

    ALONE_SECONDS = 5

    def __init__(self, rate):
        self.rate = rate
        self._next_alone = 0.0
        self._alone_until = 0.0

    def wait(self):
        if not self.rate:
            return
        while True:
            now = time.time()
            if now < self._alone_until:
                self._pace_alone(now)
                return
            seconds = ratelimit.acquire("newsletter-send", "all", limit=self.rate, now=now)
            if seconds is None:
                self._alone_until = now + self.ALONE_SECONDS
                self._pace_alone(now)
                return
            if not seconds:
                return
            time.sleep(seconds)

    def _pace_alone(self, now):
        if self._next_alone > now:
            time.sleep(self._next_alone - now)
        self._next_alone = max(now, self._next_alone) + 1 / self.rate


class Accepted:
    """Messages the server accepted whose `sent` record is not written yet.

    Each is recorded right after the server's answer; only while the database is
    down do they wait here, to be written when it is back.
    """

    def __init__(self):
        self.by_token = {}
        self.unrecorded_tokens = set()  # a mark that found the row in other hands

    def record(self, lease, delivery):
        ids = self.by_token.setdefault(lease.token, [])
        ids.append(delivery.pk)
        if ledger.record_sent(lease, ids) < len(ids):
            self.unrecorded_tokens.add(lease.token)
        del self.by_token[lease.token]

    def all_recorded(self, lease):
        return lease.token not in self.by_token and lease.token not in self.unrecorded_tokens

    def record_all(self):
        for token, ids in list(self.by_token.items()):
            ledger.record_sent(ledger.Lease(token=token, until=None, deliveries=[]), ids)
            del self.by_token[token]


@dataclasses.dataclass
class DeliveryRound:
    """What one call of deliver() did, and when to look again."""

    sent: int = 0
    failed: int = 0
    retry_at: datetime.datetime | None = None
    done: bool = False


class _Stop(Exception):
    """The issue was paused or cancelled, or the lease was lost: stop this batch."""


def _issue_still_sending(issue):
    return Issue.objects.filter(pk=issue.pk, status=Issue.Status.SENDING).exists()


def _deliver_leased(
    issue, prepared, lease, *, hand_over, journal_, throttle, accepted, result, on_progress
):
    """Send a leased batch over one connection, renewing the lease as it goes."""
    renew_every = settings.NEWSLETTER_CLAIM_SECONDS / 3
    renew_at = time.monotonic() + renew_every
    # Never send past the lease (less a margin for clocks): another worker may own it then.
    lease_end = time.monotonic() + settings.NEWSLETTER_CLAIM_SECONDS * 0.8
    for index, delivery in enumerate(lease.deliveries):
        if time.monotonic() >= renew_at:
            if not _issue_still_sending(issue) or not lease.renew():
                lease.release(lease.deliveries[index:])
                raise _Stop
            renew_at = time.monotonic() + renew_every
            lease_end = time.monotonic() + settings.NEWSLETTER_CLAIM_SECONDS * 0.8
        if time.monotonic() >= lease_end:
            logger.warning(
                "Newsletter: lease %s ran out; the batch is left to others.", lease.token
            )
            raise _Stop
        if delivery.subscriber.status != Subscriber.Status.ACTIVE:
            if ledger.record_skipped(lease, delivery) and on_progress:
                on_progress("skipped")
            continue
        throttle.wait()
        try:
            hand_over.begin(prepared.message_for(delivery.subscriber))
            hand_over.finish(
                on_dot=lambda pk=delivery.pk: journal_.dot_written(pk),
                on_no_answer=lambda pk=delivery.pk: journal_.taken_back(pk),
            )
        except SMTP_ERRORS as error:
            hand_over.after_error()
            if _record_smtp_error(lease, delivery, error, result, on_progress) == "reconnect":
                lease.release(lease.deliveries[index + 1 :])
                return
            continue
        result.sent += 1
        accepted.record(lease, delivery)
        if on_progress:
            on_progress("sent")


def _record_smtp_error(lease, delivery, error, result, on_progress):
    """Record an SMTP failure of one message; its outcome."""
    outcome, text = classify(error)
    if outcome in ("retry", "reconnect"):
        # A connection lost after the dot and before the answer is a temporary failure
        # to retry, as RFC 5321 4.1.1.4 says: the server did not confirm the message.
        ledger.record_retry(lease, delivery, error=text)
    elif ledger.record_failed(lease, delivery, error=text, bounced=outcome == "bounced"):
        result.failed += 1
        if on_progress:
            on_progress("failed")
    return outcome


def _deliver_batch(issue, prepared, lease, *, throttle, accepted, result, on_progress):
    hand_over = HandOver(mailers.default, prepared.from_email)
    try:
        hand_over.open()
    except SMTP_ERRORS as error:
        logger.warning("Newsletter: cannot reach the mail server: %s", error)
        ledger.note_mail_server_down(issue, error)
        for delivery in lease.deliveries:
            ledger.record_retry(
                lease, delivery, error=f"Connection failed: {error}", attempted=False
            )
        return
    ledger.note_mail_server_up(issue)
    journal_ = journal.Journal(lease.token)
    recorded = False
    try:
        _deliver_leased(
            issue,
            prepared,
            lease,
            hand_over=hand_over,
            journal_=journal_,
            throttle=throttle,
            accepted=accepted,
            result=result,
            on_progress=on_progress,
        )
    except _Stop:
        recorded = True
        raise
    else:
        recorded = True
    finally:
        hand_over.close()
        # Kept while anything it holds is not in the database: the next claim reads it.
        journal_.close(recorded=recorded and accepted.all_recorded(lease))


def wait_for_database(accepted, *, sleep=time.sleep):
    """Wait, with back-off, until the database answers and what was accepted is recorded."""
    delay = 0.5
    while True:
        connection.close()
        try:
            accepted.record_all()
            return
        except DatabaseError as error:
            logger.warning(
                "Newsletter: database unavailable (%s); retrying in %.1f s", error, delay
            )
            sleep(delay)
            delay = min(delay * 2, DATABASE_RETRY_MAX_SECONDS)


def worker_name():
    return f"{DNS_NAME.get_fqdn()[:20]}-{uuid.uuid4().hex[:12]}"


def deliver(issue_id, *, worker=None, on_progress=None, for_seconds=None, wait=None):
    """Claim and send batches until nothing is due; finish the issue when all are done.

    Survives the database going away (waits for it, then goes on) and the mail server
    going away (its rows wait out a back-off). With `for_seconds`, stops claiming after
    that long and says to come back at once (`retry_at`): a task that is not endless.
    Without `wait` it returns when only back-offs and other workers' leases remain,
    with `retry_at`; with `wait` (time.sleep) it waits here and carries on to the end,
    looking again at least every two seconds.
    """
    worker = worker or worker_name()
    result = DeliveryRound()
    accepted = Accepted()
    stop_at = time.monotonic() + for_seconds if for_seconds else None
    while True:
        try:
            _deliver(issue_id, worker, result, accepted, on_progress, stop_at)
        except DatabaseError as error:
            logger.warning("Newsletter: database error while sending: %s", error)
            wait_for_database(accepted)
            continue
        if result.done or result.retry_at is None or wait is None:
            return result
        pause = (result.retry_at - timezone.now()).total_seconds()
        wait(min(max(pause, 0.05), 2))
        result.retry_at = None


def _deliver(issue_id, worker, result, accepted, on_progress, stop_at):
    issue = Issue.objects.get(pk=issue_id)
    if issue.status == Issue.Status.CANCELLED:
        ledger.cancel_queued(issue)
    if issue.status != Issue.Status.SENDING:
        result.done = issue.status in (Issue.Status.SENT, Issue.Status.CANCELLED)
        return result
    prepared = PreparedRoundup.for_issue(issue)
    throttle = Throttle(settings.NEWSLETTER_MAX_PER_SECOND)
    # Just before the issue's first row: claims never walk through older issues' rows.
    start = (issue.deliveries.aggregate(first=Min("pk"))["first"] or 1) - 1
    after = start
    while True:
        if stop_at and time.monotonic() > stop_at:
            result.retry_at = timezone.now()
            return result
        lease = ledger.claim(issue, worker=worker, after=after)
        if lease is None and after != start:
            after = start  # once more from the start: retries, expired leases behind us
            continue
        if lease is None:
            break
        after = lease.deliveries[-1].pk
        try:
            _deliver_batch(
                issue,
                prepared,
                lease,
                throttle=throttle,
                accepted=accepted,
                result=result,
                on_progress=on_progress,
            )
        except _Stop:
            if not _issue_still_sending(issue):
                return _deliver(issue.pk, worker, result, accepted, on_progress, stop_at)
    if ledger.finish_if_done(issue):
        result.done = True
        return result
    result.retry_at = ledger.next_due_at(issue)
    return result
