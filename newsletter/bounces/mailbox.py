"""The bounce mailbox: where bounces, feedback-loop complaints and mail to the
`mailto:` unsubscribe address arrive, read over IMAP or POP3 (BOUNCE_MAILBOX_URL).

    imaps://user:password@imap.example.com/INBOX     (993; imap:// is 143, STARTTLS-less)
    pop3s://user:password@pop.example.com            (995; pop3:// is 110)

A message we acted on (or had acted on before: the same report read twice counts once)
is deleted. Anything else (a delay warning, an auto-reply, mail we do not understand,
a report that names no copy of ours) is left for a person: over IMAP it is marked
read and not looked at again; over POP3, which has no flags, its UIDL is remembered
for 30 days. A database outage stops the poll before anything is deleted, so nothing
is lost; the next poll reads it again.
"""

import contextlib
import dataclasses
import imaplib
import logging
import poplib
import ssl
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError

from newsletter.bounces.services import handle_message
from newsletter.models import BounceEvent

logger = logging.getLogger(__name__)

TIMEOUT = 30
POP3_SEEN_SECONDS = 30 * 86400


class MailboxError(Exception):
    """The mailbox URL is wrong, or the server refused us."""


@dataclasses.dataclass
class PollResult:
    read: int = 0
    acted: int = 0
    left: int = 0

    def __str__(self):
        return f"{self.read} read, {self.acted} applied and deleted, {self.left} left for a person"


@dataclasses.dataclass
class Mailbox:
    scheme: str
    host: str
    port: int
    user: str
    password: str
    folder: str

    @classmethod
    def from_url(cls, url):
        parts = urlsplit(url)
        defaults = {"imap": 143, "imaps": 993, "pop3": 110, "pop3s": 995}
        if parts.scheme not in defaults or not parts.hostname:
            raise MailboxError(
                "BOUNCE_MAILBOX_URL must look like imaps://user:password@host/INBOX "
                "or pop3s://user:password@host"
            )
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=parts.port or defaults[parts.scheme],
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.strip("/")) or "INBOX",
        )

    @property
    def safe_url(self):
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}"


def poll(url=None, *, limit=1000):
    """Read up to `limit` messages from the mailbox and apply them. Returns a PollResult."""
    mailbox = Mailbox.from_url(url or settings.BOUNCE_MAILBOX_URL)
    reader = _poll_imap if mailbox.scheme.startswith("imap") else _poll_pop3
    try:
        return reader(mailbox, limit=limit)
    except (OSError, imaplib.IMAP4.error, poplib.error_proto) as error:
        raise MailboxError(f"{mailbox.safe_url}: {error}") from error


def _apply(raw):
    """True when the message should be deleted: its report is recorded.

    A database error stops the poll (nothing is deleted; the next poll reads it again);
    any other error leaves this one message for a person rather than blocking the rest.
    """
    try:
        outcome = handle_message(raw, source=BounceEvent.Source.MAILBOX)
    except DatabaseError:
        raise
    except Exception:
        logger.exception("Bounce mailbox: could not read a message; left for a person")
        return False
    if not outcome.handled:
        logger.info("Bounce mailbox: left a message: %s", outcome)
    return outcome.handled


def _poll_imap(mailbox, *, limit):
    result = PollResult()
    if mailbox.scheme == "imaps":
        client = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT
        )
    else:
        client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT)
    try:
        client.login(mailbox.user, mailbox.password)
        status, _ = client.select(_quote(mailbox.folder))
        if status != "OK":
            raise MailboxError(f"cannot open the folder {mailbox.folder!r}")
        _, data = client.uid("SEARCH", None, "UNSEEN", "UNDELETED")
        uids = (data[0] or b"").split()[:limit]
        delete = []
        for uid in uids:
            _, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in fetched if isinstance(item, tuple)), None)
            if raw is None:
                continue
            result.read += 1
            if _apply(raw):
                delete.append(uid)
                result.acted += 1
            else:
                client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
                result.left += 1
        if delete:
            client.uid("STORE", b",".join(delete), "+FLAGS", "(\\Deleted)")
            client.expunge()
        client.close()
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
    return result


def _quote(folder):
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _poll_pop3(mailbox, *, limit):
    result = PollResult()
    if mailbox.scheme == "pop3s":
        client = poplib.POP3_SSL(
            mailbox.host, mailbox.port, context=ssl.create_default_context(), timeout=TIMEOUT
        )
    else:
        client = poplib.POP3(mailbox.host, mailbox.port, timeout=TIMEOUT)
    try:
        client.user(mailbox.user)
        client.pass_(mailbox.password)
        _, listing, _ = client.uidl()
        for line in listing[:limit]:
            number, uid = line.decode("ascii", "replace").split(maxsplit=1)
            seen_key = f"newsletter:bounce-mailbox:{mailbox.host}:{mailbox.user}:{uid}"
            if cache.get(seen_key):
                continue
            _, lines, _ = client.retr(int(number))
            result.read += 1
            if _apply(b"\r\n".join(lines) + b"\r\n"):
                client.dele(int(number))
                result.acted += 1
            else:
                cache.set(seen_key, True, POP3_SEEN_SECONDS)
                result.left += 1
        client.quit()  # deletions happen only here, after everything was recorded
    except BaseException:
        # No QUIT: the server forgets our DELEs, so a half-done poll deletes nothing.
        client.close()
        raise
    return result
