"""The bounce mailbox, read over IMAP and POP3 from small local servers."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from newsletter.models import BounceEvent, Subscriber
from newsletter.tokens import make_unsubscribe_token
from tests.factories import SubscriberFactory
from tests.newsletter import bounce_samples as samples
from tests.newsletter import mail_servers
from tests.newsletter.test_bounces import RETURN_PATH, send_issue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def bounce_settings(settings):
    settings.RETURN_PATH = RETURN_PATH
    settings.NEWSLETTER_UNSUBSCRIBE_MAILTO = "unsubscribe@news.example.com"


@pytest.fixture
def mailbox_messages(smtp_sink):
    """A bounce, a complaint and an unsubscribe request, plus two messages for a person."""
    bounced = SubscriberFactory(email="gone@example.org")
    complained = SubscriberFactory(email="angry@example.org")
    leaving = SubscriberFactory(email="leaving@example.org")
    kept = SubscriberFactory(email="kept@example.org")
    copies = send_issue(smtp_sink)
    messages = [
        samples.postfix(*copies[bounced.email][:1], bounced.email, copies[bounced.email][1]),
        samples.arf(copies[complained.email][1]),
        samples.unsubscribe_request(
            leaving.email, "unsubscribe@news.example.com", make_unsubscribe_token(leaving)
        ),
        samples.vacation_reply(copies[kept.email][0], kept.email),
        b"From: someone@example.net\r\nSubject: Hello\r\n\r\nIs this the newsroom?\r\n",
    ]
    return messages, {
        "bounced": bounced,
        "complained": complained,
        "leaving": leaving,
        "kept": kept,
    }


def _statuses(people):
    return {name: Subscriber.objects.get(pk=s.pk).status for name, s in people.items()}


EXPECTED = {
    "bounced": Subscriber.Status.BOUNCED,
    "complained": Subscriber.Status.UNSUBSCRIBED,
    "leaving": Subscriber.Status.UNSUBSCRIBED,
    "kept": Subscriber.Status.ACTIVE,
}


@pytest.mark.parametrize("scheme", ["imap", "pop3"])
def test_polling_the_mailbox_applies_reports_and_leaves_the_rest(scheme, mailbox_messages):
    messages, people = mailbox_messages
    store = mail_servers.Store(messages)
    server = mail_servers.start(scheme, store)
    url = f"{scheme}://bounces:s3cret%20pass@127.0.0.1:{server.server_address[1]}/INBOX"
    try:
        out = io.StringIO()
        call_command("poll_bounce_mailbox", "--url", url, stdout=out)
        assert "5 read, 3 applied and deleted, 2 left for a person" in out.getvalue()
        assert _statuses(people) == EXPECTED
        assert Subscriber.objects.get(pk=people["complained"].pk).is_suppressed
        assert store.remaining() == [4, 5]  # the auto-reply and the question
        assert set(BounceEvent.objects.values_list("source", flat=True)) == {"mailbox"}
        # The next poll reads nothing again: deleted, marked read, or remembered.
        out = io.StringIO()
        call_command("poll_bounce_mailbox", "--url", url, stdout=out)
        assert "0 read" in out.getvalue()
        assert BounceEvent.objects.count() == 3
    finally:
        server.shutdown()
        server.server_close()


def test_a_poll_stopped_by_a_database_outage_deletes_nothing(mailbox_messages, monkeypatch):
    messages, people = mailbox_messages
    store = mail_servers.Store(messages)
    server = mail_servers.start("pop3", store)
    url = f"pop3://bounces:s3cret%20pass@127.0.0.1:{server.server_address[1]}"
    from newsletter.bounces import mailbox

    real = mailbox.handle_message
    calls = []

    def flaky(raw, **kwargs):
        calls.append(raw)
        if len(calls) == 2:
            raise OperationalError("the database went away")
        return real(raw, **kwargs)

    monkeypatch.setattr(mailbox, "handle_message", flaky)
    try:
        with pytest.raises(OperationalError):
            mailbox.poll(url)
        assert store.remaining() == [1, 2, 3, 4, 5]
        monkeypatch.setattr(mailbox, "handle_message", real)
        # Read again once the database is back: the first report counts once.
        mailbox.poll(url)
        assert _statuses(people) == EXPECTED
        assert BounceEvent.objects.count() == 3
    finally:
        server.shutdown()
        server.server_close()


def test_a_wrong_password_is_a_clear_error(mailbox_messages):
    store = mail_servers.Store([])
    server = mail_servers.start("imap", store)
    url = f"imap://bounces:wrong@127.0.0.1:{server.server_address[1]}/INBOX"
    try:
        with pytest.raises(CommandError, match=re.escape("bounces@127.0.0.1")):
            call_command("poll_bounce_mailbox", "--url", url, stdout=io.StringIO())
    finally:
        server.shutdown()
        server.server_close()


def test_a_malformed_mailbox_url_is_refused():
    with pytest.raises(CommandError, match=re.escape("imaps://user:password@host/INBOX")):
        call_command("poll_bounce_mailbox", "--url", "ftp://x@y/", stdout=io.StringIO())
