"""Background work for the newsletter (django.tasks; `manage.py db_worker` runs it).

django.tasks has no periodic scheduler, so the weekly draft and the daily purge are
self-rescheduling: each run enqueues the next one with `run_after`, and
`manage.py schedule_newsletter_tasks` (run by `make run` and on deploy) starts the chain
when none is waiting. Both tasks are idempotent, so an accidental second chain is harmless.
"""

import datetime
import logging
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
def send_confirmation_email(subscriber_id):
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    # Active and suppressed addresses get nothing: sign-up did the same work for them
    # only so that its timing tells nobody which addresses subscribe.
    if (
        subscriber is None
        or subscriber.is_suppressed
        or subscriber.status == Subscriber.Status.ACTIVE
    ):
        return False
    mailers.default.send_messages([confirmation_email(subscriber)])
    return True


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
    """One worker's share of an issue. Comes back later for retries and dead workers' rows."""
    return run_deliveries(issue_id)


def run_deliveries(issue_id, *, on_progress=None, wait=None):
    """Send until the issue is done or only back-offs and live leases remain.

    With a backend that can defer, the remainder becomes a task for later; otherwise (the
    command line, the in-process test backend) this waits here and carries on.
    """
    totals = {"sent": 0, "failed": 0}
    while True:
        result = sending.deliver_pass(issue_id, on_progress=on_progress)
        totals["sent"] += result.sent
        totals["failed"] += result.failed
        if result.done or result.retry_at is None:
            return totals
        if wait is None and deliver_issue.get_backend().supports_defer:
            deliver_issue.using(run_after=result.retry_at).enqueue(issue_id)
            return totals
        # Look again at least every two seconds: rows leased by another live worker are
        # usually finished by it long before its lease would run out.
        pause = (result.retry_at - timezone.now()).total_seconds()
        (wait or time.sleep)(min(max(pause, 0.05), 2))


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


def is_waiting(periodic_task, *, include_running=True):
    """Whether a run of `periodic_task` is already queued (only the database backend can tell)."""
    backend = periodic_task.get_backend()
    if backend.__class__.__module__.split(".")[0] != "django_tasks_db":
        return False
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    statuses = [TaskResultStatus.READY] + ([TaskResultStatus.RUNNING] if include_running else [])
    return DBTaskResult.objects.filter(
        task_path=periodic_task.module_path, status__in=statuses
    ).exists()


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
