"""Read one returned message on standard input: for an MTA's pipe transport.

Postfix (master.cf), for the address in RETURN_PATH, e.g. bounces@bounces.example.com:

    newsroom-bounce unix - n n - - pipe
      flags=Rq user=newsroom argv=/srv/newsroom/.venv/bin/python /srv/newsroom/manage.py
      process_bounce --recipient ${recipient}

Exit status: 0 when the message was read (acted on or not: a message we do not
understand is logged, never bounced back, which would loop); 75 (EX_TEMPFAIL) when the
database is unreachable (or reading the message failed unexpectedly), so the MTA keeps
the message and tries again later.
"""

import logging
import sys

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from newsletter.bounces.services import handle_message
from newsletter.models import BounceEvent

EX_TEMPFAIL = 75
logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Read one bounce, complaint or unsubscribe email from standard input and apply it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--recipient",
            default="",
            help="The envelope recipient the MTA delivered it to (Postfix: ${recipient}).",
        )

    def handle(self, *args, recipient, **options):
        raw = sys.stdin.buffer.read()
        try:
            outcome = handle_message(
                raw, source=BounceEvent.Source.PIPE, envelope_recipient=recipient
            )
        except DatabaseError as error:
            self.stderr.write(f"Database unavailable, try again later: {error}")
            sys.exit(EX_TEMPFAIL)
        except Exception:
            # Keep the message queued (a fix can read it later) rather than bounce it.
            logger.exception("process_bounce could not read a message")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(str(outcome))
