from django.core.management.base import BaseCommand
from django.utils import timezone

from newsletter.tasks import PERIODIC, resume_unfinished_sends, schedule


class Command(BaseCommand):
    help = (
        "Make sure the newsletter's periodic tasks (weekly draft, purge of unconfirmed "
        "signups) are queued, and give any issue interrupted while sending its workers "
        "back. Safe to run on every start and deploy: it adds nothing already there."
    )

    def handle(self, *args, **options):
        for periodic_task, next_run in PERIODIC.items():
            at = next_run()
            if periodic_task.get_backend().supports_defer is False:
                self.stdout.write(
                    f"{periodic_task.name}: the task backend cannot schedule; skipped."
                )
            elif schedule(periodic_task, at):
                self.stdout.write(
                    f"{periodic_task.name}: scheduled for {timezone.localtime(at):%Y-%m-%d %H:%M %Z}."
                )
            else:
                self.stdout.write(f"{periodic_task.name}: already scheduled.")
        for issue_id in resume_unfinished_sends():
            self.stdout.write(f"Issue {issue_id} was still sending: its workers are queued again.")
