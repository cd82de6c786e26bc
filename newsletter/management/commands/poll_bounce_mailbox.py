from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from newsletter.bounces.mailbox import MailboxError, poll


class Command(BaseCommand):
    help = (
        "Read the bounce mailbox (BOUNCE_MAILBOX_URL, IMAP or POP3) once: apply its "
        "bounces, complaints and unsubscribe requests and delete them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", help="Another mailbox than BOUNCE_MAILBOX_URL.")

    def handle(self, *args, url=None, **options):
        url = url or settings.BOUNCE_MAILBOX_URL
        if not url:
            raise CommandError("Set BOUNCE_MAILBOX_URL (or pass --url) to read a bounce mailbox.")
        try:
            result = poll(url)
        except MailboxError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(str(result))
