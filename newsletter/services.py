"""Writes that take several steps: signing up, confirming, leaving, drafting, sending."""

import csv
import dataclasses
import datetime
import io
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from articles.models import Article
from newsletter.models import (
    EMAIL_MAX_LENGTH,
    Issue,
    IssueArticle,
    Subscriber,
    normalize_email,
    validate_subscriber_email,
)

logger = logging.getLogger(__name__)

DRAFT_MAX_ARTICLES = 20
RESUBSCRIBABLE = (
    Subscriber.Status.PENDING,
    Subscriber.Status.UNSUBSCRIBED,
    Subscriber.Status.BOUNCED,
)


def request_subscription(*, email, source):
    """Start double opt-in for `email`. The caller answers the same whatever happens here.

    New address: a pending subscriber and a confirmation email. Pending, unsubscribed or
    bounced: a fresh confirmation (the status changes only when the link is confirmed).
    Active: nothing at all, so the owner of an address is never pestered by strangers.
    Returns the subscriber who was sent a confirmation, or None.

    Every branch does the same work, so the time the answer takes tells nobody whether an
    address subscribes (issue 13): one locked read, one single-row write in a savepoint
    (an active subscriber's row is written with its own consent source, unchanged) and
    one queued confirmation task, which sends nothing to an active subscriber.
    """
    email = normalize_email(email)
    with transaction.atomic():
        subscriber = Subscriber.objects.with_email(email).select_for_update().first()
        try:
            with transaction.atomic():
                if subscriber is None:
                    subscriber = Subscriber.objects.create(email=email, consent_source=source)
                else:
                    if subscriber.status in RESUBSCRIBABLE and not subscriber.is_suppressed:
                        subscriber.consent_source = source
                    subscriber.save(update_fields=["consent_source"])
        except IntegrityError:  # the same address, at the same moment, from elsewhere
            return None
        send_confirmation(subscriber=subscriber)
    wants_confirmation = subscriber.status in RESUBSCRIBABLE and not subscriber.is_suppressed
    return subscriber if wants_confirmation else None


def send_confirmation(*, subscriber):
    from newsletter.tasks import send_confirmation_email

    transaction.on_commit(lambda: send_confirmation_email.enqueue(subscriber.pk))


def confirm_subscription(*, subscriber, ip, link_issued_at=None):
    """Make `subscriber` active. Returns the subscriber, or None when the link was made
    before they unsubscribed: unsubscribing withdrew the consent that link asked for, and
    only a new sign-up (a new link) gives it again."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        withdrawn_at = subscriber.unsubscribed_at
        if link_issued_at is not None and withdrawn_at and link_issued_at <= withdrawn_at:
            return None
        if subscriber.status != Subscriber.Status.ACTIVE:
            subscriber.status = Subscriber.Status.ACTIVE
            subscriber.confirmed_at = timezone.now()
            subscriber.confirmed_ip = ip or None
            # Back on the list: an old leaving time would count them as gone in the chart.
            subscriber.unsubscribed_at = None
            subscriber.save(
                update_fields=["status", "confirmed_at", "confirmed_ip", "unsubscribed_at"]
            )
    return subscriber


def unsubscribe(*, subscriber):
    """Leave at once; deliveries still queued for them are skipped at send time."""
    updated = (
        Subscriber.objects.filter(pk=subscriber.pk)
        .exclude(status=Subscriber.Status.UNSUBSCRIBED)
        .update(status=Subscriber.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now())
    )
    return bool(updated)


def erase_subscriber(*, subscriber):
    """ "Delete my data": the row and its delivery history go; nothing keeps the address."""
    Subscriber.objects.filter(pk=subscriber.pk).delete()


def purge_pending(*, now=None):
    """Forget addresses that never confirmed: we have no consent to keep them."""
    deleted, _ = Subscriber.objects.stale_pending(
        days=settings.NEWSLETTER_PURGE_PENDING_DAYS, now=now
    ).delete()
    return deleted


# ---------------------------------------------------------------------------
# Round-ups


def week_start(moment):
    day = timezone.localdate(moment)
    return day - datetime.timedelta(days=day.weekday())


def pick_roundup_articles(*, now, limit=DRAFT_MAX_ARTICLES):
    """The week's stories, fairly: what editors featured, then every section in turn.

    Featured stories come first, newest first. Then sections take turns in navigation
    order, each giving its newest story not yet picked, until `limit`: every section
    that published this week is in the draft (as long as there are fewer sections than
    places), and a busy section cannot crowd out a quiet one. The editor reorders freely.
    """
    week = (
        Article.objects.published(now=now)
        .filter(publish_at__gt=now - datetime.timedelta(days=7))
        .select_related("section")
    )
    featured = list(week.featured().order_by("-publish_at", "-pk")[:limit])
    picked = {article.pk for article in featured}
    by_section = {}
    for article in week.order_by("section__position", "section__name", "-publish_at", "-pk"):
        if article.pk not in picked:
            by_section.setdefault(article.section_id, []).append(article)
    rest = []
    queues = list(by_section.values())
    while queues and len(featured) + len(rest) < limit:
        for queue in queues:
            if len(featured) + len(rest) < limit:
                rest.append(queue.pop(0))
        queues = [queue for queue in queues if queue]
    # Shown grouped by section in navigation order, newest first within each.
    order = {section_id: index for index, section_id in enumerate(by_section)}
    rest.sort(key=lambda a: (order[a.section_id], -a.publish_at.timestamp(), -a.pk))
    return featured + rest


def draft_roundup(*, now=None):
    """Draft this week's round-up from the last seven days' articles; one draft per week.

    Returns (issue, created). No public article in the week: (None, False).
    """
    now = now or timezone.now()
    week_of = week_start(now)
    existing = Issue.objects.filter(week_of=week_of).first()
    if existing:
        return existing, False
    articles = pick_roundup_articles(now=now)
    if not articles:
        return None, False
    try:
        with transaction.atomic():
            issue = Issue.objects.create(
                subject=f"{settings.SITE_NAME}: the week of {week_of:%-d %B %Y}",
                week_of=week_of,
            )
            IssueArticle.objects.bulk_create(
                IssueArticle(issue=issue, article=article, position=position)
                for position, article in enumerate(articles)
            )
    except IntegrityError:  # drafted at the same moment by a duplicate task
        return Issue.objects.get(week_of=week_of), False
    return issue, True


def start_sending(*, issue, enqueue=True):
    """Send `issue` to every active subscriber, once: only a draft can start.

    With enqueue=False the caller (manage.py send_roundup) does the work in-process.
    Returns False when the issue had already left the draft state.
    """
    from newsletter.tasks import prepare_issue

    with transaction.atomic():
        started = Issue.objects.filter(pk=issue.pk, status=Issue.Status.DRAFT).update(
            status=Issue.Status.SENDING, send_started_at=timezone.now()
        )
        if started and enqueue:
            transaction.on_commit(lambda: prepare_issue.enqueue(issue.pk))
    return bool(started)


def pause_sending(*, issue):
    """Stop a send: workers give their rows back at their next lease renewal (seconds)."""
    return bool(
        Issue.objects.filter(pk=issue.pk, status=Issue.Status.SENDING).update(
            status=Issue.Status.PAUSED
        )
    )


def resume_sending(*, issue):
    """Carry on a paused send where it stopped; nobody already sent gets it again."""
    from newsletter.tasks import deliver_issue, prepare_issue

    with transaction.atomic():
        resumed = Issue.objects.filter(pk=issue.pk, status=Issue.Status.PAUSED).update(
            status=Issue.Status.SENDING
        )
        if resumed:
            if issue.deliveries.exists():
                workers = max(1, settings.NEWSLETTER_WORKERS)
                transaction.on_commit(
                    lambda: [deliver_issue.enqueue(issue.pk) for _ in range(workers)]
                )
            else:
                transaction.on_commit(lambda: prepare_issue.enqueue(issue.pk))
    return bool(resumed)


def cancel_sending(*, issue):
    """End a send for good: what is not sent yet is never sent. Sent copies stay sent."""
    from newsletter.sending.ledger import cancel_queued

    with transaction.atomic():
        cancelled = Issue.objects.filter(
            pk=issue.pk, status__in=[Issue.Status.SENDING, Issue.Status.PAUSED]
        ).update(status=Issue.Status.CANCELLED)
        if cancelled:
            cancel_queued(issue)
    return bool(cancelled)


def send_test(*, issue, to):
    """The issue exactly as subscribers get it, to one editor, marked as a test."""
    from django.core.mail import mailers

    from newsletter.sending import PreparedRoundup

    prepared = PreparedRoundup.for_issue(issue, subject_prefix="[Test] ")
    reader = Subscriber(pk=0, email=to)
    mailers.default.send_messages([prepared.message_for(reader, token="test-only-link")])


# ---------------------------------------------------------------------------
# CSV


CSV_COLUMNS = [
    "email",
    "status",
    "signed_up_at",
    "confirmed_at",
    "unsubscribed_at",
    "consent_source",
]
TRUE_WORDS = {"yes", "y", "true", "1", "opted-in", "opt-in", "confirmed"}


@dataclasses.dataclass
class ImportReport:
    added_active: int = 0
    added_pending: int = 0
    rejected: list = dataclasses.field(default_factory=list)  # (line, email, reason)


def import_subscribers(*, file, source):
    """Add subscribers from a CSV with an `email` and a `consent` column.

    A row becomes active only when its consent column says so (the list owner had
    opt-in consent); otherwise pending, and it is sent a confirmation. Existing
    addresses are left alone. All or nothing: a file that cannot be read adds nobody.
    """
    report = ImportReport()
    try:
        text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
        rows = list(csv.DictReader(text))
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValidationError(f"The file is not a readable UTF-8 CSV file: {error}") from None
    if not rows or "email" not in {(name or "").strip().lower() for name in rows[0]}:
        raise ValidationError("The file needs a header row with an “email” column.")
    seen = set()
    valid = []
    for line, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        email = normalize_email(row.get("email", ""))
        if len(email) > EMAIL_MAX_LENGTH:
            report.rejected.append((line, email, f"longer than {EMAIL_MAX_LENGTH} characters"))
            continue
        try:
            validate_subscriber_email(email)
        except ValidationError:
            report.rejected.append((line, email, "not a valid email address"))
            continue
        if email.lower() in seen:
            report.rejected.append((line, email, "appears earlier in the file"))
            continue
        seen.add(email.lower())
        consent = row.get("consent", "").lower() in TRUE_WORDS
        valid.append((line, email, consent))
    existing = _existing_addresses([email for _, email, _ in valid])
    now = timezone.now()
    line = None
    try:
        with transaction.atomic():
            for line, email, consent in valid:
                if email.lower() in existing:
                    report.rejected.append((line, email, "already on the list"))
                    continue
                # One moment for both times: signed up, then (with consent) confirmed.
                subscriber = Subscriber.objects.create(
                    email=email,
                    status=Subscriber.Status.ACTIVE if consent else Subscriber.Status.PENDING,
                    signed_up_at=now,
                    confirmed_at=now if consent else None,
                    consent_source=source,
                )
                if consent:
                    report.added_active += 1
                else:
                    report.added_pending += 1
                    send_confirmation(subscriber=subscriber)
    except DatabaseError as error:
        # The transaction rolled back whole (confirmations included): nobody was added.
        logger.warning("Subscriber import stopped at line %s: %s", line, error)
        raise ValidationError(
            f"Line {line}: the database refused this row ({type(error).__name__}); "
            "nothing was imported."
        ) from None
    return report


def _existing_addresses(emails):
    """The lower-cased addresses among `emails` already on the list (uses the unique index)."""
    lowered = sorted({email.lower() for email in emails})
    found = set()
    for start in range(0, len(lowered), 500):
        found.update(
            Subscriber.objects.annotate(address=Lower("email"))
            .filter(address__in=lowered[start : start + 500])
            .values_list("address", flat=True)
        )
    return found


# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (OWASP, "CSV Injection"): "=cmd|'/C calc'!A0" runs a program on the editor's machine.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_safe(value):
    """The text a spreadsheet shows as text: a leading formula character gets a ' first."""
    value = str(value)
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def export_rows(queryset):
    yield CSV_COLUMNS
    for s in queryset.order_by("pk").iterator(chunk_size=2000):
        yield [
            spreadsheet_safe(s.email),
            s.status,
            s.signed_up_at.isoformat() if s.signed_up_at else "",
            s.confirmed_at.isoformat() if s.confirmed_at else "",
            s.unsubscribed_at.isoformat() if s.unsubscribed_at else "",
            spreadsheet_safe(s.consent_source),
        ]
