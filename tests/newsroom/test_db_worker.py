"""The project's db_worker: it outlives database errors and recovers tasks whose worker died."""

import datetime

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.management.commands import db_worker as library

from newsroom.management.commands import db_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}
    }


def _worker(**kwargs):
    return db_worker.Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
        **kwargs,
    )


def test_the_worker_waits_out_database_errors_instead_of_exiting(monkeypatch):
    calls, sleeps = [], []

    def polls(self):
        calls.append(1)
        if len(calls) <= 3:
            raise OperationalError("connection to server was lost")

    monkeypatch.setattr(library.Worker, "run", polls)
    _worker(sleep=sleeps.append).run()
    assert len(calls) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_manage_py_db_worker_is_the_outage_proof_one():
    from django.core.management import get_commands

    assert get_commands()["db_worker"] == "newsroom"


def test_a_task_running_longer_than_the_orphan_limit_is_failed_and_enqueued_again(
    database_tasks, settings
):
    from django_tasks_db.models import DBTaskResult

    from newsletter.tasks import deliver_issue

    settings.TASK_ORPHAN_SECONDS = 60
    result = deliver_issue.enqueue(7)
    row = DBTaskResult.objects.get(pk=result.id)
    row.claim("dead-worker")
    DBTaskResult.objects.filter(pk=row.pk).update(
        started_at=timezone.now() - datetime.timedelta(seconds=61)
    )

    assert db_worker.recover_orphans() == 1

    row.refresh_from_db()
    assert row.status == "FAILED" and "stopped answering" in row.traceback
    [again] = DBTaskResult.objects.filter(status="READY")
    assert again.task_path == "newsletter.tasks.deliver_issue"
    assert again.args_kwargs["args"] == [7]


def test_a_task_still_within_the_limit_is_left_alone(database_tasks, settings):
    from django_tasks_db.models import DBTaskResult

    from newsletter.tasks import deliver_issue

    settings.TASK_ORPHAN_SECONDS = 60
    row = DBTaskResult.objects.get(pk=deliver_issue.enqueue(7).id)
    row.claim("busy-worker")
    assert db_worker.recover_orphans() == 0
    assert DBTaskResult.objects.get(pk=row.pk).status == "RUNNING"
