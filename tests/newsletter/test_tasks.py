import datetime
import io

import pytest
from django.core.management import call_command
from django.tasks import default_task_backend
from django.utils import timezone

from newsletter import services, tasks
from newsletter.models import Issue, Subscriber
from tests.factories import ArticleFactory, IssueFactory, SectionFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deferring_backend(settings):
    """A backend that accepts run_after and keeps what was enqueued, for inspection."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.dummy.DummyBackend",
            "QUEUES": ["default", "email"],
        }
    }
    default_task_backend.clear()
    yield default_task_backend
    default_task_backend.clear()


def _at(text):
    return timezone.make_aware(datetime.datetime.fromisoformat(text))


def test_next_draft_time_is_the_configured_weekday_and_hour(settings):
    settings.NEWSLETTER_DRAFT_AT = "friday 08:00"
    assert tasks.next_draft_at(_at("2026-11-25 12:00")) == _at("2026-11-27 08:00")  # a Wednesday
    assert tasks.next_draft_at(_at("2026-11-27 08:00")) == _at("2026-12-04 08:00")
    assert tasks.next_draft_at(_at("2026-11-27 07:59")) == _at("2026-11-27 08:00")


def test_a_bad_draft_schedule_says_what_it_expects(settings):
    settings.NEWSLETTER_DRAFT_AT = "someday"
    with pytest.raises(ValueError, match="friday 08:00"):
        tasks.next_draft_at()


def test_the_weekly_draft_takes_the_weeks_public_articles_by_section_newest_first():
    world, business = SectionFactory(position=1), SectionFactory(position=2)
    now = timezone.now()
    old_world = ArticleFactory(
        published=True, section=world, publish_at=now - datetime.timedelta(days=3)
    )
    new_world = ArticleFactory(
        published=True, section=world, publish_at=now - datetime.timedelta(days=1)
    )
    new_business = ArticleFactory(
        published=True, section=business, publish_at=now - datetime.timedelta(hours=2)
    )
    ArticleFactory(published=True, section=world, publish_at=now - datetime.timedelta(days=9))
    ArticleFactory(section=world)  # a draft
    ArticleFactory(status="scheduled", section=world, publish_at=now + datetime.timedelta(days=1))
    issue, created = services.draft_roundup(now=now)
    assert created and issue.is_draft
    assert [item.article for item in issue.items.all()] == [new_world, old_world, new_business]


def test_drafting_twice_in_a_week_keeps_one_draft():
    ArticleFactory(published=True)
    first, _ = services.draft_roundup()
    second, created = services.draft_roundup()
    assert second == first and not created
    assert Issue.objects.count() == 1


def test_a_week_without_articles_drafts_nothing():
    assert services.draft_roundup() == (None, False)


def test_the_weekly_task_drafts_and_schedules_its_next_run(deferring_backend, settings):
    ArticleFactory(published=True)
    tasks.draft_weekly_roundup.call()
    assert Issue.objects.count() == 1
    [result] = deferring_backend.results
    assert result.task.func == tasks.draft_weekly_roundup.func
    assert result.task.run_after == tasks.next_draft_at()


def test_the_purge_deletes_only_stale_pending_subscribers(settings):
    settings.NEWSLETTER_PURGE_PENDING_DAYS = 30
    old = timezone.now() - datetime.timedelta(days=31)
    SubscriberFactory(status="pending", signed_up_at=old, email="stale@example.com")
    SubscriberFactory(status="pending", email="fresh@example.com")
    SubscriberFactory(status="active", signed_up_at=old, email="loyal@example.com")
    SubscriberFactory(status="unsubscribed", signed_up_at=old, email="left@example.com")
    tasks.purge_pending_subscribers.call()
    assert sorted(Subscriber.objects.values_list("email", flat=True)) == [
        "fresh@example.com", "left@example.com", "loyal@example.com"
    ]  # fmt: skip


def test_the_schedule_command_enqueues_each_periodic_task(deferring_backend):
    call_command("schedule_newsletter_tasks", stdout=io.StringIO())
    paths = sorted(r.task.module_path for r in deferring_backend.results)
    assert paths == [
        "newsletter.tasks.draft_weekly_roundup",
        "newsletter.tasks.purge_pending_subscribers",
    ]
    assert all(r.task.run_after > timezone.now() for r in deferring_backend.results)


@pytest.mark.django_db(transaction=True)
def test_the_schedule_command_adds_nothing_already_queued_in_the_database(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}
    }
    from django_tasks_db.models import DBTaskResult

    call_command("schedule_newsletter_tasks", stdout=io.StringIO())
    call_command("schedule_newsletter_tasks", stdout=io.StringIO())
    assert DBTaskResult.objects.count() == 2


def test_the_schedule_command_resumes_an_interrupted_send(deferring_backend):
    sending_issue = IssueFactory(status=Issue.Status.SENDING)
    IssueFactory(status=Issue.Status.SENT)
    call_command("schedule_newsletter_tasks", stdout=io.StringIO())
    resumed = [r.args for r in deferring_backend.results if r.task.name == "prepare_issue"]
    assert resumed == [[sending_issue.pk]]


def test_sending_leaves_retries_to_a_later_task_when_the_backend_can_defer(
    deferring_backend, smtp_sink, settings
):
    settings.NEWSLETTER_RETRY_SECONDS = 60
    issue = IssueFactory()
    SubscriberFactory()
    smtp_sink.rcpt_reply = lambda address: "451 later"
    services.start_sending(issue=issue, enqueue=False)
    tasks.prepare_issue.call(issue.pk)
    deferring_backend.clear()
    tasks.deliver_issue.call(issue.pk)
    [later] = deferring_backend.results
    assert later.task.name == "deliver_issue"
    assert later.task.run_after > timezone.now() + datetime.timedelta(seconds=50)


def test_the_confirmation_email_is_not_sent_to_an_active_subscriber():
    from django.core import mail

    assert tasks.send_confirmation_email.call(SubscriberFactory().pk) is False
    assert mail.outbox == []


def test_the_mailbox_task_polls_and_schedules_its_next_run(
    deferring_backend, settings, monkeypatch
):
    from newsletter.bounces import mailbox

    settings.BOUNCE_MAILBOX_URL = "imaps://bounces:pw@imap.example.com/INBOX"
    settings.BOUNCE_MAILBOX_POLL_SECONDS = 120
    polled = []
    monkeypatch.setattr(mailbox, "poll", lambda: polled.append(1) or mailbox.PollResult(read=2))
    assert tasks.poll_bounce_mailbox.call().startswith("2 read")
    [result] = deferring_backend.results
    assert result.task.func == tasks.poll_bounce_mailbox.func
    assert 110 < (result.task.run_after - timezone.now()).total_seconds() <= 120


def test_an_unreachable_mailbox_is_logged_and_polled_again_later(
    deferring_backend, settings, monkeypatch, caplog
):
    from newsletter.bounces import mailbox

    settings.BOUNCE_MAILBOX_URL = "imaps://bounces:pw@imap.example.com/INBOX"

    def unreachable():
        raise mailbox.MailboxError("bounces@imap.example.com:993: Connection refused")

    monkeypatch.setattr(mailbox, "poll", unreachable)
    assert tasks.poll_bounce_mailbox.call() is None
    assert "Connection refused" in caplog.text
    assert len(deferring_backend.results) == 1
