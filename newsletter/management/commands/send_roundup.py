import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from newsletter import sending, services
from newsletter.models import Issue


class Command(BaseCommand):
    help = (
        "Send a round-up issue to every active subscriber, here and now, with a progress "
        "bar. Runs the same code as the admin's “Send to all”; an issue already sending "
        "(after a crash) resumes where it stopped, and a sent issue is never sent again."
    )

    def add_arguments(self, parser):
        parser.add_argument("issue", type=int, help="The issue's id (see the admin).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, issue, no_progress=False, **options):
        try:
            issue = Issue.objects.get(pk=issue)
        except Issue.DoesNotExist:
            raise CommandError(f"There is no issue {issue}.") from None
        if issue.status == Issue.Status.SENT:
            raise CommandError(
                f"“{issue}” was sent on {issue.sent_at:%Y-%m-%d %H:%M}; it is sent once only."
            )
        if issue.status == Issue.Status.DRAFT and not services.start_sending(
            issue=issue, enqueue=False
        ):
            raise CommandError(f"“{issue}” is being sent by someone else.")
        sending.create_deliveries(issue)
        progress = issue.progress()
        with tqdm(
            total=progress["total"],
            initial=progress["total"] - progress["remaining"],
            unit="msg",
            desc=issue.subject[:40],
            disable=no_progress,
            file=self.stderr._out,
        ) as bar:
            result = sending.deliver(
                issue.pk, on_progress=lambda outcome: bar.update(), wait=time.sleep
            )
        issue.refresh_from_db()
        progress = issue.progress()
        self.stdout.write(
            f"{issue.get_status_display()}: {progress['sent']} sent, {progress['failed']} failed, "
            f"{progress['skipped']} skipped, {progress['cancelled']} cancelled, "
            f"{progress['remaining']} remaining "
            f"({result.sent} sent by this run)."
        )
