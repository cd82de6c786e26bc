"""Background work for the newsletter (django.tasks; `manage.py db_worker` runs it).

django.tasks has no periodic scheduler, so the weekly draft and the daily purge are
self-rescheduling: each run enqueues the next one with `run_after`, and
`manage.py schedule_newsletter_tasks` (run by `make run` and on deploy) starts the chain
when none is waiting. Both tasks are idempotent, so an accidental second chain is harmless.
Sends need no command: every `db_worker` runs `heal_sends` every few seconds.
"""

import datetime
import logging
import smtplib
import time

from django.conf import settings
from django.core.mail import mailers
from django.tasks import task
from django.utils import timezone

from newsletter import sending, services
from newsletter.emails import confirmation_email
from newsletter.models import Issue, Subscriber

logger = logging.getLogger(__name__)

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
PURGE_AT = datetime.time(3, 30)


@task(queue_name="email")
def send_confirmation_email(subscriber_id, attempt=1):
    """The double opt-in email. A mail server that fails is tried again with back-off
    (1, 2, 4 … minutes, at most an hour apart) until NEWSLETTER_CONFIRMATION_RETRY_HOURS
    after the signup; each failed try stays in the admin's task results with its error.
    """
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    # Active and suppressed addresses get nothing: sign-up did the same work for them
    # only so that its timing tells nobody which addresses subscribe.
    if (
        subscriber is None
        or subscriber.is_suppressed
        or subscriber.status == Subscriber.Status.ACTIVE
    ):
        return False
    try:
        mailers.default.send_messages([confirmation_email(subscriber)])
    except (OSError, smtplib.SMTPException):
        retry_at = confirmation_retry_at(attempt, signed_up_at=subscriber.signed_up_at)
        if retry_at is None:
            logger.error(
                "Newsletter: gave up the confirmation email to subscriber %s", subscriber_id
            )
        elif send_confirmation_email.get_backend().supports_defer:
            send_confirmation_email.using(run_after=retry_at).enqueue(subscriber_id, attempt + 1)
        raise  # this try is recorded as failed, with the server's error
    return True


def confirmation_retry_at(attempt, *, signed_up_at, now=None):
    """When to try a failed confirmation email again; None once it is time to give up."""
    now = now or timezone.now()
    first = settings.NEWSLETTER_CONFIRMATION_RETRY_SECONDS
    delay = datetime.timedelta(seconds=min(first * 2 ** (attempt - 1), 3600))
    give_up = signed_up_at + datetime.timedelta(hours=settings.NEWSLETTER_CONFIRMATION_RETRY_HOURS)
    return now + delay if now + delay <= give_up else None


@task(queue_name="email")
def prepare_issue(issue_id):
    """Create the deliveries, then start the workers that share them."""
    issue = Issue.objects.get(pk=issue_id)
    if issue.status != Issue.Status.SENDING:
        return 0
    total = sending.create_deliveries(issue)
    for _ in range(max(1, settings.NEWSLETTER_WORKERS)):
        deliver_issue.enqueue(issue_id)
    return total


@task(queue_name="email")
def deliver_issue(issue_id):
    """One worker's share of an issue, for at most NEWSLETTER_TASK_SECONDS at a time.

    Comes back as a new task for what is left (back-offs, the rest of a long send), so
    a worker is never tied to one task for hours and a lost task is replaced quickly.
    With a backend that cannot defer (the in-process one of tests), waits here instead.
    """
    can_defer = deliver_issue.get_backend().supports_defer
    result = sending.deliver(
        issue_id,
        for_seconds=settings.NEWSLETTER_TASK_SECONDS if can_defer else None,
        wait=None if can_defer else time.sleep,
    )
    if can_defer and not result.done and result.retry_at is not None:
        deliver_issue.using(run_after=result.retry_at).enqueue(issue_id)
    return {"sent": result.sent, "failed": result.failed}


def heal_sends():
    """Every worker runs this every few seconds (newsroom's db_worker): sends heal alone.

    For each issue being sent: deliveries never created get their prepare task again;
    due rows with no deliver task waiting (its worker died, its task was lost) get one;
    an issue with nothing left is finished; a cancelled issue's free rows are closed. Cheap: a few indexed queries
    per issue being sent, and nothing when none is.
    """
    now = timezone.now()
    sending.journal.prune()
    for issue in Issue.objects.filter(status__in=[Issue.Status.SENDING, Issue.Status.CANCELLED]):
        if issue.status == Issue.Status.CANCELLED:
            sending.ledger.cancel_queued(issue)
            continue
        if is_waiting(prepare_issue, args=[issue.pk]):
            continue
        if not issue.deliveries.exists():
            prepare_issue.enqueue(issue.pk)
            continue
        if sending.ledger.finish_if_done(issue, now=now):
            continue
        due = issue.deliveries.due(now=now).exists()
        if due and not is_waiting(deliver_issue, args=[issue.pk], include_running=False):
            deliver_issue.enqueue(issue.pk)


# ---------------------------------------------------------------------------
# Periodic work


def parse_weekly(spec):
    """ "friday 08:00" -> (4, time(8, 0))."""
    try:
        day, clock = spec.lower().split()
        hour, minute = clock.split(":")
        return WEEKDAYS.index(day), datetime.time(int(hour), int(minute))
    except ValueError:
        raise ValueError(
            f"NEWSLETTER_DRAFT_AT must look like 'friday 08:00', not {spec!r}."
        ) from None


def next_draft_at(now=None):
    weekday, at = parse_weekly(settings.NEWSLETTER_DRAFT_AT)
    now = timezone.localtime(now or timezone.now())
    day = now.date() + datetime.timedelta(days=(weekday - now.weekday()) % 7)
    moment = timezone.make_aware(datetime.datetime.combine(day, at))
    return moment if moment > now else moment + datetime.timedelta(weeks=1)


def next_purge_at(now=None):
    now = timezone.localtime(now or timezone.now())
    moment = timezone.make_aware(datetime.datetime.combine(now.date(), PURGE_AT))
    return moment if moment > now else moment + datetime.timedelta(days=1)


@task()
def draft_weekly_roundup():
    try:
        issue, created = services.draft_roundup()
    finally:
        schedule(draft_weekly_roundup, next_draft_at(), include_running=False)
    return issue.pk if created else None


@task()
def purge_pending_subscribers():
    try:
        deleted = services.purge_pending()
    finally:
        schedule(purge_pending_subscribers, next_purge_at(), include_running=False)
    return deleted


def next_mailbox_poll_at(now=None):
    return (now or timezone.now()) + datetime.timedelta(
        seconds=max(30, settings.BOUNCE_MAILBOX_POLL_SECONDS)
    )


@task()
def poll_bounce_mailbox():
    """Read the bounce mailbox every BOUNCE_MAILBOX_POLL_SECONDS (when it is set)."""
    from newsletter.bounces.mailbox import MailboxError, poll

    if not settings.BOUNCE_MAILBOX_URL:
        return None
    try:
        return str(poll())
    except MailboxError as error:
        logger.error("Bounce mailbox: %s", error)  # tried again at the next poll
        return None
    finally:
        schedule(poll_bounce_mailbox, next_mailbox_poll_at(), include_running=False)


PERIODIC = {draft_weekly_roundup: next_draft_at, purge_pending_subscribers: next_purge_at}
if settings.BOUNCE_MAILBOX_URL:
    PERIODIC[poll_bounce_mailbox] = next_mailbox_poll_at


def is_waiting(periodic_task, *, include_running=True, args=None):
    """Whether a run of `periodic_task` (with `args`, if given) is already queued or running.

    Only the database backend can tell; elsewhere this says no.
    """
    backend = periodic_task.get_backend()
    if backend.__class__.__module__.split(".")[0] != "django_tasks_db":
        return False
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    statuses = [TaskResultStatus.READY] + ([TaskResultStatus.RUNNING] if include_running else [])
    waiting = DBTaskResult.objects.filter(task_path=periodic_task.module_path, status__in=statuses)
    if args is None:
        return waiting.exists()
    return any(
        (row or {}).get("args") == list(args)
        for row in waiting.values_list("args_kwargs", flat=True)[:1000]
    )


def schedule(periodic_task, run_after, *, include_running=True):
    """Enqueue the next run unless one waits already. Returns the result or None."""
    if not periodic_task.get_backend().supports_defer:
        return None
    if is_waiting(periodic_task, include_running=include_running):
        return None
    return periodic_task.using(run_after=run_after).enqueue()


def resume_unfinished_sends():
    """After a restart: every issue still sending gets its workers back."""
    issue_ids = list(Issue.objects.filter(status=Issue.Status.SENDING).values_list("pk", flat=True))
    for issue_id in issue_ids:
        prepare_issue.enqueue(issue_id)
    return issue_ids
