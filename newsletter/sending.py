"""Sending a round-up exactly once to every active subscriber.

The protocol, which survives a worker killed at any point:

1. `create_deliveries` makes one Delivery row per issue and active subscriber
   (unique together, so running it twice adds nothing).
2. Each worker `claim_batch`es up to NEWSLETTER_BATCH_SIZE due rows: on PostgreSQL
   with SELECT … FOR UPDATE SKIP LOCKED, so workers never wait for or share a row. A
   claim is a lease (`claimed_until`, `claimed_by`): a killed worker's rows become due
   again when it runs out, and another worker takes them over. A worker reads on from
   its last batch in primary-key order, and looks once more from the start (retries,
   expired leases) before it stops.
3. The batch goes out over one SMTP connection. Messages the server accepted are
   marked sent in groups of MARK_SENT_EVERY, one autocommitted UPDATE each, and only
   while the claim is still ours; whatever is waiting is also marked when the batch
   ends or stops on an error. The guarantee, exactly:
   - a worker killed outright (SIGKILL, the OOM killer, its machine failing) resends
     at most MARK_SENT_EVERY messages: those accepted since its last group was written;
   - a worker stopped by an exception (KeyboardInterrupt included) writes its group
     first, so it resends at most the one message in flight, unless the exception is
     the database failing, when the group is lost as above;
   - on PostgreSQL a pass commits with synchronous_commit off: a commit is kept when
     a worker dies, but a crash of the database server itself can lose the commits
     of its last wal_writer_delay (200 ms by default, at worst three times that), so
     those messages go out again; nobody is ever skipped.
4. 4xx answers are retried with exponential back-off, 5xx answers fail the delivery,
   and "no such user" also marks the subscriber bounced.

The MIME message is built once per issue (templates rendered, CSS inlined, headers
encoded, the bodies quoted-printable encoded but for the lines holding the token); per
subscriber only the address, Message-ID, Date and unsubscribe token are filled in,
which keeps a worker fast and its memory flat.
"""

import binascii
import contextlib
import dataclasses
import datetime
import email.message
import email.policy
import email.utils
import functools
import logging
import re
import smtplib
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, mailers
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.utils import DNS_NAME
from django.db import connection, transaction
from django.db.models import F, Min, Value
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone

from newsletter.bounces.returnpath import return_path_for
from newsletter.bounces.services import record_rejection
from newsletter.emails import absolute_url, render_roundup
from newsletter.models import Delivery, Issue, Subscriber
from newsletter.tokens import make_unsubscribe_token
from newsroom.mail import envelope_recipient, needs_smtputf8

logger = logging.getLogger(__name__)

TOKEN_SLOT = "NEWSLETTERUNSUBSCRIBETOKEN"
POLICY = email.policy.SMTP
MAX_BACKOFF = datetime.timedelta(hours=6)
# Accepted messages marked sent per UPDATE: the most a worker killed outright resends.
MARK_SENT_EVERY = 20
# RFC 3463 5.1.x: bad destination mailbox; plus the wording servers use without it.
NO_SUCH_USER = re.compile(
    rb"5\.1\.[0-6]|no such user|user unknown|unknown user|does not exist|"
    rb"mailbox (is )?unavailable|recipient (address )?rejected|invalid recipient",
    re.IGNORECASE,
)


class RawMIME:
    """A prepared message that backends serialise as is (they call message().as_bytes())."""

    def __init__(self, raw):
        self.raw = raw

    def as_bytes(self, *args, **kwargs):
        return self.raw

    def as_string(self, *args, **kwargs):
        return self.raw.decode("utf-8", "replace")

    def get_charset(self):
        return None

    def parsed(self):
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    def __getitem__(self, name):
        return self.parsed()[name]


class PreparedEmail(EmailMessage):
    """An EmailMessage whose MIME bytes were assembled ahead of time."""

    def __init__(self, *, raw, from_email, to, subject, body, html, headers):
        super().__init__(subject, body, from_email, [to], headers=headers)
        self.raw = raw
        self.alternatives = [(html, "text/html")]

    def message(self, *, policy=POLICY):
        return RawMIME(self.raw)


def _header(name, value):
    return POLICY.fold_binary(name, value)


def _plain_header(name, value):
    """An ASCII header as is: no encoded words, which would hide a URL from mail clients.

    Anything else (non-ASCII, a line break, a line past SMTP's 998 limit) goes through
    the email package's folding.
    """
    line = f"{name}: {value}\r\n"
    if line.isascii() and "\n" not in value and "\r" not in value and len(line) <= 998:
        return line.encode("ascii")
    return _header(name, value)


def _address_header(name, address):
    """An address as is: UTF-8 for a non-ASCII local part (RFC 6532, sent with SMTPUTF8),
    which the email package would otherwise turn into an undeliverable encoded word."""
    if needs_smtputf8(address) and not any(char in address for char in "\r\n"):
        return f"{name}: {address}\r\n".encode()
    return _plain_header(name, address)


def _qp(text):
    data = binascii.b2a_qp(text.encode("utf-8"), istext=True)
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _qp_template(text):
    """`text` quoted-printable encoded ahead of time, but for the lines holding TOKEN_SLOT.

    Returns bytes for the fixed stretches and str for each line to encode per subscriber.
    b2a_qp works line by line (soft breaks, trailing blanks, a lone dot all look only at
    their own line), so encoding the lines apart gives exactly the bytes of encoding the
    whole, for the cost of the few lines that differ.
    """
    *lines, last = text.split("\n")
    parts, fixed = [], []
    for line in [f"{line}\n" for line in lines] + [last]:
        if TOKEN_SLOT in line:
            if fixed:
                parts.append(_qp("".join(fixed)))
                fixed = []
            parts.append(line)
        else:
            fixed.append(line)
    if fixed:
        parts.append(_qp("".join(fixed)))
    return parts


def _fill_qp(parts, token):
    return b"".join(
        part if isinstance(part, bytes) else _qp(part.replace(TOKEN_SLOT, token)) for part in parts
    )


def _unsubscribe_header(url, mailto):
    """RFC 2369: the two URIs as they are, folded between them, never encoded."""
    first, second = f"List-Unsubscribe: <{url}>,", f" <{mailto}>"
    if all(line.isascii() and len(line) <= 996 for line in (first, second)) and not any(
        char in url + mailto for char in "\r\n"
    ):
        return f"{first}\r\n{second}\r\n".encode("ascii")
    return _header("List-Unsubscribe", f"<{url}>, <{mailto}>")


@dataclasses.dataclass
class PreparedRoundup:
    """One issue rendered once; `message_for()` fills in a subscriber."""

    subject: str
    from_email: str
    text: str
    html: str
    head: bytes  # headers shared by every copy
    boundary: str
    list_id: str
    issue_id: int | None = None  # names each copy in its return path (bounces.returnpath)

    @classmethod
    def for_issue(cls, issue, *, subject_prefix=""):
        unsubscribe_url = cls.unsubscribe_url(TOKEN_SLOT)
        text, html = render_roundup(issue, unsubscribe_url=unsubscribe_url)
        subject = f"{subject_prefix}{issue.subject}"
        list_id = f"{settings.SITE_NAME} weekly round-up <roundup.{settings.SITE_HOST}>"
        boundary = f"=_nl_{uuid.uuid4().hex}"
        head = b"".join(
            [
                _header("From", settings.DEFAULT_FROM_EMAIL),
                _header("Subject", subject),
                _header("List-Id", list_id),
                _header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                _header("Precedence", "bulk"),
                _header("MIME-Version", "1.0"),
                _header("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
            ]
        )
        return cls(
            subject=subject,
            from_email=settings.DEFAULT_FROM_EMAIL,
            text=text,
            html=html,
            head=head,
            boundary=boundary,
            list_id=list_id,
            issue_id=issue.pk,
        )

    @staticmethod
    def unsubscribe_url(token):
        return absolute_url(reverse("newsletter:unsubscribe", kwargs={"token": token}))

    @functools.cached_property
    def _unsubscribe_template(self):
        return self.unsubscribe_url(TOKEN_SLOT)  # reversed once, not per subscriber

    @functools.cached_property
    def _encoded_text(self):
        return _qp_template(self.text)

    @functools.cached_property
    def _encoded_html(self):
        return _qp_template(self.html)

    def message_for(self, subscriber, *, token=None):
        token = token or make_unsubscribe_token(subscriber)
        url = self._unsubscribe_template.replace(TOKEN_SLOT, token)
        mailto = f"mailto:{settings.NEWSLETTER_UNSUBSCRIBE_MAILTO}?subject=unsubscribe%20{token}"
        headers = {
            "To": subscriber.email,
            "Date": email.utils.format_datetime(timezone.now()),
            "Message-ID": email.utils.make_msgid(domain=DNS_NAME.get_fqdn()),
            "List-Unsubscribe": f"<{url}>, <{mailto}>",
        }
        unsubscribe = _unsubscribe_header(url, mailto)
        text = self.text.replace(TOKEN_SLOT, token)
        html = self.html.replace(TOKEN_SLOT, token)
        b = self.boundary.encode()
        raw = b"".join(
            [
                self.head,
                _address_header("To", headers["To"]),
                _plain_header("Date", headers["Date"]),
                _plain_header("Message-ID", headers["Message-ID"]),
                unsubscribe,
                b"\r\n--",
                b,
                b'\r\nContent-Type: text/plain; charset="utf-8"\r\n'
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                _fill_qp(self._encoded_text, token),
                b"\r\n--",
                b,
                b'\r\nContent-Type: text/html; charset="utf-8"\r\n'
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                _fill_qp(self._encoded_html, token),
                b"\r\n--",
                b,
                b"--\r\n",
            ]
        )
        headers.pop("To")
        headers["List-Id"] = self.list_id
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message = PreparedEmail(
            raw=raw,
            from_email=self.from_email,
            to=subscriber.email,
            subject=self.subject,
            body=text,
            html=html,
            headers=headers,
        )
        message.return_path = return_path_for(issue_id=self.issue_id, subscriber_id=subscriber.pk)
        return message


# ---------------------------------------------------------------------------
# Deliveries


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


def claim_batch(issue, *, worker, size=None, now=None, after=0):
    """Lease up to `size` due deliveries to `worker`; the leased rows, with subscribers.

    Only rows past the primary key `after` are looked at: a worker reads on from its
    last batch instead of stepping over every row sent so far, which would make each
    claim slower than the one before and a large send quadratic.
    """
    size = size or settings.NEWSLETTER_BATCH_SIZE
    now = now or timezone.now()
    until = now + datetime.timedelta(seconds=settings.NEWSLETTER_CLAIM_SECONDS)
    with transaction.atomic():
        due = Delivery.objects.due(now=now).filter(issue=issue, pk__gt=after).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:size])
        if not ids:
            return []
        # The due() condition again: on SQLite (no row locks) it keeps two workers from
        # both leasing a row; the write lock serialises the two UPDATEs.
        Delivery.objects.due(now=now).filter(pk__in=ids).update(
            claimed_by=worker, claimed_until=until
        )
    return list(
        Delivery.objects.filter(pk__in=ids, claimed_by=worker, claimed_until=until)
        .select_related("subscriber")
        .order_by("pk")
    )


def _mine(delivery, worker):
    return Delivery.objects.filter(pk=delivery.pk, claimed_by=worker, status=Delivery.Status.QUEUED)


@contextlib.contextmanager
def commits_without_flush():
    """On PostgreSQL, commits on this connection return before their WAL is on disk.

    Each commit is still whole, at once visible to every other worker, and kept if this
    worker dies: PostgreSQL has it. Only a crash of the database server or its machine
    can lose the last of them, those of the last wal_writer_delay (200 ms by default, at
    worst three times that). Waiting for the disk at every commit would cost more than
    the sending.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


@functools.cache
def _mark_sent_sql(count):
    table = connection.ops.quote_name(Delivery._meta.db_table)
    ids = ", ".join(["%s"] * count)
    return (
        f"UPDATE {table} SET status = %s, sent_at = %s, attempts = attempts + 1, "
        f"claimed_until = NULL, error = '' WHERE id IN ({ids}) AND claimed_by = %s "
        "AND status = %s"
    )


def mark_sent(delivery_ids, *, worker):
    """One autocommitted UPDATE for a group of accepted messages; the rows it marked.

    Written out rather than compiled by the ORM each time (which costs more than the
    UPDATE); the same conditions as _mine().
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _mark_sent_sql(len(delivery_ids)),
            [
                Delivery.Status.SENT.value,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                *delivery_ids,
                worker,
                Delivery.Status.QUEUED.value,
            ],
        )
        return cursor.rowcount


class SentMarks:
    """Accepted messages, marked sent in the database a group at a time.

    A group is written once `every` messages are waiting, and whatever waits when the
    batch ends or stops. So a worker killed outright has at most `every` messages the
    server accepted and the database does not know about: the most it can send twice.
    """

    def __init__(self, *, worker, every, on_progress=None):
        self.worker = worker
        self.every = every
        self.on_progress = on_progress
        self.waiting = []
        self.marked = 0

    def add(self, delivery):
        self.waiting.append(delivery.pk)
        if len(self.waiting) >= self.every:
            self.flush()

    def flush(self):
        if not self.waiting:
            return
        ids, self.waiting = self.waiting, []
        marked = mark_sent(ids, worker=self.worker)
        if marked < len(ids):
            logger.error(
                "Newsletter: %d deliveries were sent after their lease ended: %s",
                len(ids) - marked,
                ids,
            )
        self.marked += marked
        if self.on_progress:
            for _ in range(marked):
                self.on_progress("sent")


def mark_skipped(delivery, *, worker):
    return _mine(delivery, worker).update(
        status=Delivery.Status.SKIPPED, claimed_until=None, error="No longer subscribed."
    )


def mark_failed(delivery, *, worker, error, bounced=False):
    with transaction.atomic():
        updated = _mine(delivery, worker).update(
            status=Delivery.Status.FAILED,
            attempts=F("attempts") + 1,
            claimed_until=None,
            error=error[:2000],
        )
        if updated:
            # The server's refusal, under the rules for bounces (newsletter.bounces):
            # "no such user" at once, any other refusal (552, a policy 5xx, 4xx until we
            # gave up) when it happens NEWSLETTER_SOFT_BOUNCE_LIMIT weeks in a row.
            record_rejection(delivery=delivery, error=error, hard=bounced)
    return updated


def mark_retry(delivery, *, worker, error, count_attempt=True):
    """Back off exponentially; after NEWSLETTER_MAX_ATTEMPTS tries the delivery fails."""
    attempts = delivery.attempts + (1 if count_attempt else 0)
    if attempts >= settings.NEWSLETTER_MAX_ATTEMPTS:
        return mark_failed(
            delivery, worker=worker, error=f"Gave up after {attempts} tries: {error}"
        )
    delay = min(
        datetime.timedelta(seconds=settings.NEWSLETTER_RETRY_SECONDS * 2 ** max(attempts - 1, 0)),
        MAX_BACKOFF,
    )
    return _mine(delivery, worker).update(
        attempts=attempts,
        next_attempt_at=timezone.now() + delay,
        claimed_until=None,
        error=error[:2000],
    )


def release(deliveries, *, worker):
    """Give rows back untouched (the connection broke before their turn)."""
    Delivery.objects.filter(
        pk__in=[d.pk for d in deliveries], claimed_by=worker, status=Delivery.Status.QUEUED
    ).update(claimed_until=None)


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
    if code == 421:  # the server is closing the connection
        return "reconnect", text
    if code is not None and 400 <= code < 500:
        return "retry", text
    if code in (550, 551, 553) and NO_SUCH_USER.search(message or b""):
        return "bounced", text
    return "failed", text


# An address the SMTP backend's parser would pass through unchanged: plain ASCII, no
# display name, comments, quoting or line breaks.
PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\Z")


class Sender:
    """Hands prepared messages to the mailer, one SMTP transaction each.

    Over Django's SMTP backend the bytes go straight to its open smtplib connection with
    the envelope sender prepared once: the backend would otherwise re-parse both
    addresses of every message (about a millisecond). A subscriber address that is not
    plain ASCII still gets the backend's full check (IDNA, injection). Any other backend
    (locmem in tests, console…) gets send_messages().
    """

    def __init__(self, mailer, prepared):
        self.mailer = mailer
        self.smtp = isinstance(mailer, SMTPBackend)
        self.envelope_from = mailer.prep_address(prepared.from_email) if self.smtp else None

    def send(self, message):
        connection = self.mailer.connection if self.smtp else None
        if connection is None:
            self.mailer.send_messages([message])
            return
        [to] = message.to
        options = ()
        if not PLAIN_ADDRESS.match(to):  # IDNA, injection checks, SMTPUTF8 (zoë@…)
            to, options = envelope_recipient(self.mailer, connection, to)
        # Each copy's own envelope sender, when bounces are collected (BOUNCE_DOMAIN).
        envelope_from = getattr(message, "return_path", None) or self.envelope_from
        connection.sendmail(envelope_from, [to], message.raw, mail_options=options)


class Throttle:
    """At most `rate` messages per second across every worker sharing the cache."""

    def __init__(self, rate):
        self.rate = rate

    def wait(self):
        if not self.rate:
            return
        while True:
            now = time.time()
            key = f"newsletter:rate:{int(now)}"
            cache.add(key, 0, timeout=5)
            try:
                if cache.incr(key) <= self.rate:
                    return
            except ValueError:
                continue
            time.sleep(max(0.001, int(now) + 1 - now))


@dataclasses.dataclass
class Pass:
    """What one pass over the due deliveries did, and when to look again."""

    sent: int = 0
    failed: int = 0
    retry_at: datetime.datetime | None = None
    done: bool = False


def send_batch(prepared, batch, *, worker, throttle, on_progress=None, mark_every=MARK_SENT_EVERY):
    """Send a claimed batch over one connection. Returns (sent, failed)."""
    lease_end = time.monotonic() + settings.NEWSLETTER_CLAIM_SECONDS * 0.8
    mailer = mailers.default
    try:
        mailer.open()
    except (OSError, smtplib.SMTPException) as error:
        logger.warning("Newsletter: cannot reach the mail server: %s", error)
        for delivery in batch:
            mark_retry(
                delivery, worker=worker, error=f"Connection failed: {error}", count_attempt=False
            )
        return 0, 0
    marks = SentMarks(worker=worker, every=mark_every, on_progress=on_progress)
    try:
        try:
            failed = _send_each(
                batch,
                prepared=prepared,
                sender=Sender(mailer, prepared),
                marks=marks,
                lease_end=lease_end,
                throttle=throttle,
                on_progress=on_progress,
            )
        finally:
            marks.flush()  # also when stopped by an error: what was sent, was sent
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            mailer.close()
    return marks.marked, failed


def _send_each(batch, *, prepared, sender, marks, lease_end, throttle, on_progress):
    """send_batch's loop over an open connection. Returns how many deliveries failed."""
    failed = 0
    worker = marks.worker
    for index, delivery in enumerate(batch):
        if time.monotonic() > lease_end:
            # Never send on an expired lease: another worker may hold these rows now.
            release(batch[index:], worker=worker)
            break
        if delivery.subscriber.status != Subscriber.Status.ACTIVE:
            if mark_skipped(delivery, worker=worker) and on_progress:
                on_progress("skipped")
            continue
        throttle.wait()
        try:
            sender.send(prepared.message_for(delivery.subscriber))
        except (OSError, smtplib.SMTPException) as error:
            outcome, text = classify(error)
            if outcome == "retry":
                mark_retry(delivery, worker=worker, error=text)
            elif outcome == "reconnect":
                mark_retry(delivery, worker=worker, error=text)
                release(batch[index + 1 :], worker=worker)
                break
            elif mark_failed(delivery, worker=worker, error=text, bounced=outcome == "bounced"):
                failed += 1
                if on_progress:
                    on_progress("failed")
            continue
        marks.add(delivery)
    return failed


def deliver_pass(issue_id, *, worker=None, on_progress=None):
    """Claim and send batches until nothing is due; finish the issue when all are done."""
    worker = worker or f"{DNS_NAME.get_fqdn()[:20]}-{uuid.uuid4().hex[:12]}"
    issue = Issue.objects.get(pk=issue_id)
    result = Pass()
    if issue.status != Issue.Status.SENDING:
        result.done = issue.status == Issue.Status.SENT
        return result
    prepared = PreparedRoundup.for_issue(issue)
    throttle = Throttle(settings.NEWSLETTER_MAX_PER_SECOND)
    # Just before the issue's first row: claims never walk through older issues' rows.
    start = (issue.deliveries.aggregate(first=Min("pk"))["first"] or 1) - 1
    with commits_without_flush():
        after = start
        while True:
            batch = claim_batch(issue, worker=worker, after=after)
            if not batch and after != start:
                after = start  # once more from the start: retries, expired leases behind us
                continue
            if not batch:
                break
            after = batch[-1].pk
            sent, failed = send_batch(
                prepared, batch, worker=worker, throttle=throttle, on_progress=on_progress
            )
            result.sent += sent
            result.failed += failed
    if not issue.deliveries.filter(status=Delivery.Status.QUEUED).exists():
        Issue.objects.filter(pk=issue.pk, status=Issue.Status.SENDING).update(
            status=Issue.Status.SENT, sent_at=timezone.now()
        )
        result.done = True
        return result
    # The earliest moment a queued row becomes due: its back-off and any lease both over.
    epoch = Value(datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
    due_at = issue.deliveries.filter(status=Delivery.Status.QUEUED).aggregate(
        at=Min(Greatest(Coalesce("next_attempt_at", epoch), Coalesce("claimed_until", epoch)))
    )["at"]
    result.retry_at = max(due_at or timezone.now(), timezone.now())
    return result
