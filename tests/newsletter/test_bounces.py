"""Bounces, complaints and unsubscribe mail, read from real-shaped reports."""

import email.utils
import io
import subprocess
import sys

import pytest
from django.core import mail
from django.core.management import call_command

from newsletter import sending, services
from newsletter.bounces import reports, returnpath
from newsletter.bounces.services import handle_message
from newsletter.models import BounceEvent, Delivery, Subscriber
from newsletter.sending import deliver
from newsletter.tokens import make_unsubscribe_token
from tests.factories import IssueFactory, SubscriberFactory
from tests.newsletter import bounce_samples as samples

pytestmark = pytest.mark.django_db

RETURN_PATH = "bounces@bounces.news.example.com"


@pytest.fixture(autouse=True)
def bounce_settings(settings):
    settings.RETURN_PATH = RETURN_PATH
    settings.NEWSLETTER_SOFT_BOUNCE_LIMIT = 3


def send_issue(smtp_sink):
    """Send a round-up to every active subscriber through the real SMTP sink.

    Returns {address: (envelope sender, the copy's headers as text)}.
    """
    issue = IssueFactory()
    services.start_sending(issue=issue, enqueue=False)
    sending.create_deliveries(issue)
    already = len(smtp_sink.envelopes)
    deliver(issue.pk, wait=lambda seconds: None)
    copies = {}
    for mail_from, [rcpt], content in smtp_sink.envelopes[already:]:
        headers = content.decode("utf-8").split("\r\n\r\n", 1)[0].replace("\r\n", "\n")
        copies[rcpt] = (mail_from, f"Return-Path: <{mail_from}>\n{headers}\n")
    return copies


@pytest.fixture
def reader():
    return SubscriberFactory(email="ann@example.org")


def _status(subscriber):
    subscriber.refresh_from_db()
    return subscriber.status


# ---------------------------------------------------------------------------
# The return path


def test_each_copy_is_sent_from_its_own_signed_return_path(smtp_sink, reader):
    other = SubscriberFactory(email="bob@example.org")
    copies = send_issue(smtp_sink)
    ann_from, bob_from = copies[reader.email][0], copies[other.email][0]
    assert ann_from != bob_from
    for address, subscriber in ((ann_from, reader), (bob_from, other)):
        assert address.startswith("bounces+") and address.endswith("@bounces.news.example.com")
        assert len(address.partition("@")[0]) <= 64
        [token] = returnpath.find_tokens(address)
        delivery = Delivery.objects.get(subscriber=subscriber)
        assert (token.issue_id, token.subscriber_id) == (delivery.issue_id, subscriber.pk)
    # The From header is unchanged: readers see the newsroom, not the bounce address.
    assert "bounces+" not in smtp_sink.messages()[0]["From"]


def test_without_a_return_path_setting_the_envelope_sender_is_the_from_address(
    smtp_sink, reader, settings
):
    settings.RETURN_PATH = ""
    [(mail_from, _)] = send_issue(smtp_sink).values()
    assert mail_from == email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def test_a_return_path_token_cannot_be_forged_or_altered():
    good = returnpath.return_path_for(issue_id=7, subscriber_id=12345)
    token = good.split("+", 1)[1].split("@")[0]
    assert returnpath.read_token(token) == returnpath.ReturnPathToken(
        subscriber_id=12345, issue_id=7
    )
    assert returnpath.read_token(token.upper()) is not None  # servers may change the case
    payload, _, mac = token.rpartition("-")
    other_subscriber = payload.rsplit("-", 1)[0] + "-zz"
    assert returnpath.read_token(f"{other_subscriber}-{mac}") is None
    assert returnpath.read_token(f"{payload}-{'0' * 16}") is None
    assert (
        returnpath.find_tokens(f"bounces+{other_subscriber}-{mac}@bounces.news.example.com") == []
    )


def test_a_confirmation_email_is_sent_from_a_return_path_naming_the_subscriber(
    client, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/newsletter/", {"email": "new@example.org", "source": "/"})
    [message] = mail.outbox
    [token] = returnpath.find_tokens(message.from_email)
    assert token == returnpath.ReturnPathToken(subscriber_id=Subscriber.objects.get().pk)
    assert message.message()["From"] == settings.DEFAULT_FROM_EMAIL


# ---------------------------------------------------------------------------
# Hard bounces from several servers


HARD = {
    "postfix": (samples.postfix, "5.1.1"),
    "sendmail": (samples.sendmail, "5.1.1"),
    "exim without DSN": (samples.exim_plain, "5.1.1"),
    "qmail": (samples.qmail, "5.1.1"),
    "office 365": (samples.office365, "5.1.10"),
}


@pytest.mark.parametrize("server", HARD)
def test_a_hard_bounce_marks_the_subscriber_bounced_at_once(server, smtp_sink, reader):
    build, status = HARD[server]
    verp, original = send_issue(smtp_sink)[reader.email]
    outcome = handle_message(build(verp, reader.email, original), source="mailbox")
    assert _status(reader) == Subscriber.Status.BOUNCED
    assert reader.bounced_at is not None
    [event] = outcome.recorded
    assert (event.kind, event.source, event.status_code) == ("hard", "mailbox", status)
    assert event.delivery == Delivery.objects.get(subscriber=reader)
    assert event.diagnostic
    # The next round-up leaves them out.
    assert reader.email not in send_issue(smtp_sink)


def test_a_bounced_address_is_not_sent_the_next_issue_nor_counted_active(smtp_sink, reader):
    verp, original = send_issue(smtp_sink)[reader.email]
    handle_message(samples.postfix(verp, reader.email, original), source="pipe")
    assert not Subscriber.objects.active().exists()


def test_a_hard_bounce_of_a_confirmation_email_marks_the_pending_address_bounced(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/newsletter/", {"email": "typo@example.org", "source": "/"})
    verp = mail.outbox[0].from_email
    handle_message(samples.postfix(verp, "typo@example.org", "Subject: x\n"), source="mailbox")
    assert Subscriber.objects.get().status == Subscriber.Status.BOUNCED


# ---------------------------------------------------------------------------
# Soft bounces


SOFT = {
    "exim mailbox full (5.2.2 under 5.0.0)": samples.exim_dsn,
    "gmail over quota (4.2.2)": samples.gmail,
    "office 365 policy block (5.7.1)": lambda v, r, o: samples.office365(v, r, o, status="5.7.1"),
}


@pytest.mark.parametrize("server", SOFT)
def test_a_soft_bounce_is_recorded_but_does_not_bounce_the_subscriber(server, smtp_sink, reader):
    verp, original = send_issue(smtp_sink)[reader.email]
    outcome = handle_message(SOFT[server](verp, reader.email, original), source="mailbox")
    assert [event.kind for event in outcome.recorded] == ["soft"]
    assert _status(reader) == Subscriber.Status.ACTIVE


def test_three_soft_bounces_in_a_row_mark_the_subscriber_bounced(smtp_sink, reader):
    for week in range(3):
        assert _status(reader) == Subscriber.Status.ACTIVE, f"bounced after {week} soft bounces"
        verp, original = send_issue(smtp_sink)[reader.email]
        handle_message(samples.gmail(verp, reader.email, original), source="mailbox")
    assert _status(reader) == Subscriber.Status.BOUNCED


def test_a_week_that_arrives_resets_the_soft_bounce_count(smtp_sink, reader):
    for week in range(5):
        verp, original = send_issue(smtp_sink)[reader.email]
        if week != 2:  # the third week's copy was delivered: no bounce came back
            handle_message(samples.gmail(verp, reader.email, original), source="mailbox")
    # soft, soft, delivered, soft, soft: never three in a row.
    assert _status(reader) == Subscriber.Status.ACTIVE
    assert reader.bounce_events.count() == 4


def test_the_same_report_read_twice_counts_once(smtp_sink, reader, settings):
    settings.NEWSLETTER_SOFT_BOUNCE_LIMIT = 1
    verp, original = send_issue(smtp_sink)[reader.email]
    report = samples.gmail(verp, reader.email, original)
    assert handle_message(report, source="mailbox").recorded
    assert handle_message(report, source="mailbox").duplicates == 1
    assert reader.bounce_events.count() == 1


def test_a_delay_warning_changes_nothing(smtp_sink, reader):
    verp, original = send_issue(smtp_sink)[reader.email]
    warning = samples.postfix(
        verp,
        reader.email,
        original,
        status="4.4.1",
        action="delayed",
        diagnostic="X-Postfix; connect to mail.example.org[192.0.2.25]:25: Connection timed out",
    )
    outcome = handle_message(warning, source="mailbox")
    assert not outcome.recorded and "not a bounce" in outcome.ignored
    assert _status(reader) == Subscriber.Status.ACTIVE


def test_an_auto_reply_to_the_bounce_address_changes_nothing(smtp_sink, reader):
    verp, _ = send_issue(smtp_sink)[reader.email]
    assert not handle_message(samples.vacation_reply(verp, reader.email), source="mailbox").recorded
    assert _status(reader) == Subscriber.Status.ACTIVE


# ---------------------------------------------------------------------------
# Forged reports


def test_a_bounce_without_our_signed_token_marks_nobody(smtp_sink, reader):
    send_issue(smtp_sink)
    forged = samples.postfix(RETURN_PATH, reader.email, f"To: {reader.email}\nSubject: x\n")
    outcome = handle_message(forged, source="mailbox")
    assert outcome.unmatched == 1 and not outcome.recorded
    assert _status(reader) == Subscriber.Status.ACTIVE


def test_a_bounce_with_a_tampered_token_marks_nobody(smtp_sink, reader):
    victim = SubscriberFactory(email="victim@example.org")
    verp, original = send_issue(smtp_sink)[reader.email]
    local, domain = verp.split("@")
    payload, mac = local.rsplit("-", 1)
    tampered = f"{payload.rsplit('-', 1)[0]}-{returnpath._base36(victim.pk)}-{mac}@{domain}"
    handle_message(samples.postfix(tampered, victim.email, original), source="mailbox")
    assert _status(victim) == Subscriber.Status.ACTIVE


# ---------------------------------------------------------------------------
# Complaints and unsubscribe mail


def test_a_feedback_loop_complaint_unsubscribes_and_suppresses(smtp_sink, reader, client):
    _, original = send_issue(smtp_sink)[reader.email]
    outcome = handle_message(samples.arf(original), source="mailbox")
    assert [event.kind for event in outcome.recorded] == ["complaint"]
    assert outcome.recorded[0].delivery == Delivery.objects.get(subscriber=reader)
    assert "Feedback-Type: abuse" in outcome.recorded[0].diagnostic
    assert _status(reader) == Subscriber.Status.UNSUBSCRIBED
    assert reader.is_suppressed and reader.unsubscribed_at
    # Suppressed: a sign-up for the address sends nothing at all.
    client.post("/newsletter/", {"email": reader.email, "source": "/"})
    assert not mail.outbox


def test_a_complaint_whose_original_lost_its_return_path_is_found_by_its_unsubscribe_link(
    smtp_sink, reader
):
    _, original = send_issue(smtp_sink)[reader.email]
    original = "\n".join(line for line in original.splitlines() if "bounces+" not in line)
    handle_message(samples.arf(original), source="mailbox")
    assert _status(reader) == Subscriber.Status.UNSUBSCRIBED


def test_a_not_spam_report_changes_nothing(smtp_sink, reader):
    _, original = send_issue(smtp_sink)[reader.email]
    handle_message(samples.arf(original, feedback_type="not-spam"), source="mailbox")
    assert _status(reader) == Subscriber.Status.ACTIVE


def test_mail_to_the_unsubscribe_address_unsubscribes(smtp_sink, reader, settings):
    send_issue(smtp_sink)
    header = smtp_sink.messages()[0]["List-Unsubscribe"]
    mailto = header.split("<mailto:")[1].rstrip(">")
    address, _, query = mailto.partition("?")
    token = query.split("subject=unsubscribe%20")[1]
    outcome = handle_message(
        samples.unsubscribe_request(reader.email, address, token), source="mailbox"
    )
    assert [event.kind for event in outcome.recorded] == ["unsubscribe"]
    assert _status(reader) == Subscriber.Status.UNSUBSCRIBED
    assert not reader.is_suppressed  # they may come back by signing up again


def test_an_unsubscribe_mail_with_a_bad_token_or_from_a_robot_does_nothing(reader, settings):
    token = make_unsubscribe_token(reader)
    mailto = settings.NEWSLETTER_UNSUBSCRIBE_MAILTO
    for raw in (
        samples.unsubscribe_request(reader.email, mailto, token[:-3] + "xyz"),
        samples.unsubscribe_request(reader.email, mailto, token, auto_submitted="auto-replied"),
    ):
        assert not handle_message(raw, source="mailbox").recorded
    assert _status(reader) == Subscriber.Status.ACTIVE


# ---------------------------------------------------------------------------
# The pipe: manage.py process_bounce < message


def test_process_bounce_reads_standard_input_and_says_what_it_did(smtp_sink, reader, monkeypatch):
    verp, original = send_issue(smtp_sink)[reader.email]
    raw = samples.postfix(verp, reader.email, original)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("process_bounce", stdout=out)
    assert "Hard bounce for ann@example.org (5.1.1)" in out.getvalue()
    assert BounceEvent.objects.get().source == "pipe"
    assert _status(reader) == Subscriber.Status.BOUNCED


def test_process_bounce_takes_the_envelope_recipient_from_the_mta(smtp_sink, reader, monkeypatch):
    verp, _ = send_issue(smtp_sink)[reader.email]
    # A report whose headers name no token: only the MTA's ${recipient} does.
    raw = samples.postfix(RETURN_PATH, reader.email, "Subject: x\n").replace(
        b"Delivered-To: " + RETURN_PATH.encode(), b"X-Nothing: here"
    )
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    call_command("process_bounce", "--recipient", verp, stdout=io.StringIO())
    assert _status(reader) == Subscriber.Status.BOUNCED


def test_process_bounce_tells_the_mta_to_retry_when_the_database_is_down(settings):
    verp = returnpath.return_path_for(issue_id=1, subscriber_id=1)
    raw = samples.qmail(verp, "ann@example.org", "Subject: x\n")
    result = subprocess.run(
        [sys.executable, "manage.py", "process_bounce"],
        input=raw,
        capture_output=True,
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=2",
            "SITE_URL": "http://testserver",
            "SECRET_KEY": settings.SECRET_KEY,
            "RETURN_PATH": RETURN_PATH,
        },
        timeout=60,
    )
    assert result.returncode == 75, result.stderr.decode()[-500:]


def test_a_report_names_its_form_and_status(smtp_sink, reader):
    verp, original = send_issue(smtp_sink)[reader.email]
    report = reports.parse(samples.sendmail(verp, reader.email, original))
    assert (report.form, report.kind, report.status_code) == ("dsn", "hard", "5.1.1")
    assert report.recipients == [reader.email]
    assert "User unknown" in report.diagnostic


# ---------------------------------------------------------------------------
# Refusals during the send itself


@pytest.mark.parametrize(
    "reply",
    ["552 5.2.2 <ann@example.org>: mailbox full", "550 5.7.1 Message rejected by policy"],
)
def test_a_mailbox_full_or_policy_refusal_at_send_time_bounces_after_three_weeks(
    smtp_sink, reader, reply
):
    smtp_sink.rcpt_reply = lambda address: reply if address == reader.email else None
    for week in range(3):
        assert _status(reader) == Subscriber.Status.ACTIVE, f"bounced after {week} weeks"
        send_issue(smtp_sink)
    assert _status(reader) == Subscriber.Status.BOUNCED
    assert list(reader.bounce_events.values_list("kind", "source")) == [("soft", "smtp")] * 3


def test_a_no_such_user_refusal_at_send_time_is_a_hard_bounce_on_record(smtp_sink, reader):
    smtp_sink.rcpt_reply = lambda address: "550 5.1.1 <ann@example.org>: user unknown"
    send_issue(smtp_sink)
    assert _status(reader) == Subscriber.Status.BOUNCED
    event = reader.bounce_events.get()
    assert (event.kind, event.source, event.status_code) == ("hard", "smtp", "5.1.1")


def test_broken_mail_is_read_as_nothing_never_an_error(reader):
    raw = samples.postfix(RETURN_PATH, reader.email, "Subject: x\n")
    for broken in (
        raw[: len(raw) // 3],
        bytes(range(256)) * 8,
        b"From: =?utf-8?b?\xff\xfe?= \xe9\xe8\r\nSubject: \xff\r\n\r\nUser unknown 5.1.1\r\n",
        b"Content-Type: multipart/report; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\n\r\n--x--",
        b"",
    ):
        assert not handle_message(broken, source="mailbox").recorded
    assert _status(reader) == Subscriber.Status.ACTIVE
