"""`manage.py db_worker`: django-tasks-db's worker, made to outlive outages and heal.

The library's worker exits on the first database error of its polling loop, and a task
whose worker died stays RUNNING for ever. This one (same options, same behaviour
otherwise) adds:

- outages: a database error anywhere in the loop (polling, claiming, recording a
  result) closes the connection and retries with back-off (0.5 s doubling to 5 s);
  the worker never exits on its own;
- housekeeping: every TASK_WORKER_HOUSEKEEPING_SECONDS each worker runs the callables
  named in TASK_WORKER_HOUSEKEEPING (the newsletter's `heal_sends`), so work whose
  worker died is picked up again with no command to run;
- orphans: a task row RUNNING for longer than TASK_ORPHAN_SECONDS lost its worker
  (our tasks are short: sending works in slices of NEWSLETTER_TASK_SECONDS); it is
  marked failed ("worker lost") and enqueued again. Every task of the project is
  idempotent, so running one twice is safe.
"""

import contextlib
import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.management.commands import db_worker as library
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("newsroom.worker")

OUTAGE_MAX_SECONDS = 5


def recover_orphans(*, now=None):
    """RUNNING task rows older than TASK_ORPHAN_SECONDS: failed, and enqueued again."""
    now = now or timezone.now()
    cutoff = now - timezone.timedelta(seconds=settings.TASK_ORPHAN_SECONDS)
    recovered = 0
    for row in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff):
        with transaction.atomic():
            lost = DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path="newsroom.worker.WorkerLost",
                traceback=f"The worker {row.worker_ids[-1:] or '?'} stopped answering: this run "
                f"was RUNNING for more than {settings.TASK_ORPHAN_SECONDS} s. Enqueued again.",
            )
            if not lost:
                continue
            try:
                task = row.task
            except Exception:  # the task's code is gone: nothing to run again
                logger.exception("Orphaned task %s cannot be run again", row.pk)
                continue
            args, kwargs = row.args_kwargs.get("args", []), row.args_kwargs.get("kwargs", {})
            task.using(queue_name=row.queue_name, priority=row.priority).enqueue(*args, **kwargs)
            recovered += 1
            logger.warning("Task %s (%s) lost its worker; enqueued again.", row.pk, row.task_path)
    return recovered


def housekeeping():
    recover_orphans()
    for path in settings.TASK_WORKER_HOUSEKEEPING:
        import_string(path)()


class Housekeeper(threading.Thread):
    """Runs `housekeeping()` every TASK_WORKER_HOUSEKEEPING_SECONDS beside the task loop.

    A thread of its own (with its own database connection) so that it runs while a
    long task holds the loop, and an outage only makes it wait for the next round.
    """

    def __init__(self, *, interval=None):
        super().__init__(name="housekeeping", daemon=True)
        self.interval = interval or settings.TASK_WORKER_HOUSEKEEPING_SECONDS
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(self.interval):
            try:
                housekeeping()
            except DatabaseError as error:
                logger.warning("Housekeeping: database unavailable (%s)", error)
                _drop_connection()
            except Exception:
                logger.exception("Worker housekeeping failed")
            finally:
                close_old_connections()


def _drop_connection():
    with contextlib.suppress(DatabaseError):
        connection.close()


class Worker(library.Worker):
    """The library's worker, retrying with back-off on database errors instead of exiting."""

    def __init__(self, *args, sleep=time.sleep, **kwargs):
        super().__init__(*args, **kwargs)
        self.sleep = sleep

    def run(self):
        delay, last_error = 0.5, 0.0
        while self.running:
            try:
                super().run()
                return  # --batch or --max-tasks reached: the library's own way out
            except DatabaseError as error:
                if time.monotonic() - last_error > 2 * OUTAGE_MAX_SECONDS:
                    delay = 0.5  # a new outage, not the same one going on
                last_error = time.monotonic()
                self.running_task = False
                logger.warning("Database unavailable (%s); retrying in %.1f s", error, delay)
                _drop_connection()
                self.sleep(delay)
                delay = min(delay * 2, OUTAGE_MAX_SECONDS)


class Command(library.Command):
    help = (
        "Run a database background worker that survives database outages, recovers "
        "tasks whose worker died and heals interrupted newsletter sends."
    )

    def handle(self, *args, **options):
        housekeeper = Housekeeper()
        housekeeper.start()
        # The library builds its Worker by this module-level name inside handle().
        original, library.Worker = library.Worker, Worker
        try:
            return super().handle(*args, **options)
        finally:
            library.Worker = original
            housekeeper.stopped.set()
