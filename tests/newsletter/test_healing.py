"""Sends heal without a command; confirmations are retried; Message-IDs name the site."""

import datetime
import smtplib

import pytest
from django.utils import timezone

from newsletter import sending, services, tasks
from newsletter.models import Delivery, Issue
from tests.factories import IssueFactory, SubscriberFactory
from tests.smtp import free_port, mailers_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}
    }


def _waiting(task_name):
    from django_tasks_db.models import DBTaskResult

    return list(DBTaskResult.objects.filter(status="READY", task_path__endswith=task_name))


def test_a_send_whose_worker_died_gets_a_new_task_from_housekeeping(database_tasks):
    SubscriberFactory.create_batch(2)
    issue = IssueFactory()
    services.start_sending(issue=issue, enqueue=False)
    sending.create_deliveries(issue)
    # The worker that held the rows died: its lease ran out, and no task is waiting.
    Delivery.objects.update(claimed_by="dead#1", claimed_until=timezone.now())

    tasks.heal_sends()
    tasks.heal_sends()  # a second round adds nothing while the first task waits

    [task] = _waiting("deliver_issue")
    assert task.args_kwargs["args"] == [issue.pk]


def test_housekeeping_prepares_a_send_whose_rows_were_never_made(database_tasks):
    SubscriberFactory()
    issue = IssueFactory()
    services.start_sending(issue=issue, enqueue=False)
    tasks.heal_sends()
    assert len(_waiting("prepare_issue")) == 1


def test_housekeeping_finishes_a_send_with_nothing_left(database_tasks):
    SubscriberFactory()
    issue = IssueFactory()
    services.start_sending(issue=issue, enqueue=False)
    sending.create_deliveries(issue)
    Delivery.objects.update(status=Delivery.Status.SENT)
    tasks.heal_sends()
    assert Issue.objects.get().status == Issue.Status.SENT


def test_a_confirmation_the_mail_server_refused_is_tried_again_later(database_tasks, settings):
    settings.MAILERS = mailers_for(free_port())  # nobody listens
    subscriber = SubscriberFactory(status="pending")
    with pytest.raises(OSError):
        tasks.send_confirmation_email.call(subscriber.pk)
    [retry] = _waiting("send_confirmation_email")
    assert retry.args_kwargs["args"] == [subscriber.pk, 2]
    assert retry.run_after > timezone.now() + datetime.timedelta(seconds=50)


def test_confirmation_retries_give_up_after_the_documented_time(settings):
    settings.NEWSLETTER_CONFIRMATION_RETRY_HOURS = 24
    signed_up = timezone.now() - datetime.timedelta(hours=23, minutes=59)
    assert tasks.confirmation_retry_at(8, signed_up_at=signed_up) is None
    assert tasks.confirmation_retry_at(1, signed_up_at=timezone.now()) is not None


def test_a_refused_confirmation_counts_as_a_failed_try(database_tasks, settings, smtp_sink):
    smtp_sink.rcpt_reply = lambda address: "451 4.3.0 Try again later"
    subscriber = SubscriberFactory(status="pending")
    with pytest.raises(smtplib.SMTPException):
        tasks.send_confirmation_email.call(subscriber.pk)
    assert len(_waiting("send_confirmation_email")) == 1


def test_the_message_id_names_the_site_not_the_worker(settings):
    settings.SITE_HOST = "news.example.com"
    issue = IssueFactory()
    message = sending.PreparedRoundup.for_issue(issue).message_for(SubscriberFactory())
    assert message.extra_headers["Message-ID"].endswith("@news.example.com>")
