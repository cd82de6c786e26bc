"""Provider webhooks, signed with keys made here, as SES/SNS, Postmark, Mailgun and
SendGrid document their notifications."""

import base64
import datetime
import hashlib
import hmac
import json
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from newsletter.bounces import webhooks
from newsletter.models import BounceEvent, Subscriber
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

TOPIC = "arn:aws:sns:eu-west-1:123456789012:newsroom-ses-feedback"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-6aad65c2f9911b05cd53efda11f913f9.pem"


@pytest.fixture
def reader():
    return SubscriberFactory(email="ann@example.org")


def _status(subscriber):
    subscriber.refresh_from_db()
    return subscriber.status


# ---------------------------------------------------------------------------
# Amazon SES through SNS


@pytest.fixture(scope="module")
def sns_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def sns(settings, sns_key, monkeypatch):
    """Amazon's side: signs messages; serves the certificate; records confirmations."""
    settings.SES_SNS_TOPIC_ARNS = [TOPIC]
    key, pem = sns_key
    fetched = []

    def http_get(url):
        fetched.append(url)
        return pem if url == CERT_URL else b"<ConfirmSubscriptionResponse/>"

    monkeypatch.setattr(webhooks, "http_get", http_get)

    class SNS:
        def __init__(self):
            self.fetched = fetched

        def sign(self, message, *, version="2"):
            message = {"SignatureVersion": version, "SigningCertURL": CERT_URL, **message}
            fields = webhooks.SNS_FIELDS[message["Type"]]
            text = "".join(f"{f}\n{message[f]}\n" for f in fields if message.get(f) is not None)
            algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
            signature = key.sign(text.encode(), padding.PKCS1v15(), algorithm)
            return {**message, "Signature": base64.b64encode(signature).decode()}

        def notification(self, payload, *, version="2", **extra):
            return self.sign(
                {
                    "Type": "Notification",
                    "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
                    "TopicArn": TOPIC,
                    "Message": json.dumps(payload),
                    "Timestamp": "2026-11-30T09:12:05.000Z",
                    **extra,
                },
                version=version,
            )

    return SNS()


def _ses_bounce(email, *, bounce_type="Permanent", feedback_id="0100019a-bounce-1"):
    return {
        "notificationType": "Bounce",
        "bounce": {
            "feedbackId": feedback_id,
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": email,
                    "action": "failed",
                    "status": "5.1.1" if bounce_type == "Permanent" else "4.2.2",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": "2026-11-30T09:12:04.000Z",
            "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com",
        },
        "mail": {
            "timestamp": "2026-11-30T09:12:03.000Z",
            "source": "newsletter@news.example.com",
            "messageId": "0100019a-original",
            "destination": [email],
        },
    }


def _post_json(client, url, payload, **headers):
    return client.post(url, json.dumps(payload), content_type="text/plain", headers=headers)


def test_sns_subscription_is_confirmed_after_its_signature_is_checked(client, sns):
    subscribe_url = (
        "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn="
        f"{TOPIC}&Token=2336412f37fb687f5d51e6e2425"
    )
    message = sns.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336412f37fb687f5d51e6e2425",
            "TopicArn": TOPIC,
            "Message": f"You have chosen to subscribe to the topic {TOPIC}.",
            "SubscribeURL": subscribe_url,
            "Timestamp": "2026-11-30T09:00:00.000Z",
        }
    )
    response = _post_json(client, "/newsletter/webhooks/ses/", message)
    assert response.status_code == 200
    assert sns.fetched == [CERT_URL, subscribe_url]


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_permanent_ses_bounce_marks_the_subscriber_bounced(client, sns, reader, version):
    message = sns.notification(_ses_bounce(reader.email), version=version)
    response = _post_json(client, "/newsletter/webhooks/ses/", message)
    assert response.json() == {"recorded": 1, "duplicates": 0, "unmatched": 0}
    assert _status(reader) == Subscriber.Status.BOUNCED
    event = BounceEvent.objects.get()
    assert (event.kind, event.source, event.status_code) == ("hard", "ses", "5.1.1")


def test_the_same_sns_notification_delivered_twice_counts_once(client, sns, reader, settings):
    settings.NEWSLETTER_SOFT_BOUNCE_LIMIT = 1
    message = sns.notification(_ses_bounce(reader.email, bounce_type="Transient"))
    _post_json(client, "/newsletter/webhooks/ses/", message)
    response = _post_json(client, "/newsletter/webhooks/ses/", message)
    assert response.json()["duplicates"] == 1
    assert BounceEvent.objects.count() == 1


def test_an_ses_complaint_unsubscribes_and_suppresses(client, sns, reader):
    complaint = {
        "notificationType": "Complaint",
        "complaint": {
            "feedbackId": "0100019a-complaint-1",
            "complaintFeedbackType": "abuse",
            "userAgent": "ExampleFBL/1.0",
            "complainedRecipients": [{"emailAddress": reader.email}],
            "timestamp": "2026-11-30T10:00:00.000Z",
        },
        "mail": {"timestamp": "2026-11-30T09:12:03.000Z", "source": "x@news.example.com"},
    }
    _post_json(client, "/newsletter/webhooks/ses/", sns.notification(complaint))
    assert _status(reader) == Subscriber.Status.UNSUBSCRIBED
    assert reader.is_suppressed


def test_an_altered_sns_message_is_refused(client, sns, reader):
    message = sns.notification(_ses_bounce("someone-else@example.org"))
    message["Message"] = json.dumps(_ses_bounce(reader.email))
    response = _post_json(client, "/newsletter/webhooks/ses/", message)
    assert response.status_code == 403
    assert _status(reader) == Subscriber.Status.ACTIVE


def test_an_sns_message_signed_by_a_certificate_elsewhere_is_refused_unfetched(client, sns, reader):
    message = sns.notification(_ses_bounce(reader.email))
    message["SigningCertURL"] = "https://attacker.example.com/SimpleNotificationService.pem"
    response = _post_json(client, "/newsletter/webhooks/ses/", message)
    assert response.status_code == 403
    assert sns.fetched == []


def test_an_sns_topic_that_is_not_ours_is_refused(client, sns, reader):
    message = sns.notification(_ses_bounce(reader.email), TopicArn=TOPIC.replace("1234", "9999"))
    assert _post_json(client, "/newsletter/webhooks/ses/", message).status_code == 403
    assert _status(reader) == Subscriber.Status.ACTIVE


def test_webhooks_without_their_secret_are_not_there(client, settings):
    settings.SES_SNS_TOPIC_ARNS = []
    settings.POSTMARK_WEBHOOK_AUTH = settings.MAILGUN_WEBHOOK_SIGNING_KEY = ""
    settings.SENDGRID_WEBHOOK_PUBLIC_KEY = ""
    for provider in ("ses", "postmark", "mailgun", "sendgrid"):
        response = client.post(f"/newsletter/webhooks/{provider}/", "{}", content_type="text/plain")
        assert response.status_code == 404


def test_garbage_gets_a_4xx_never_a_500(client, sns, settings):
    settings.POSTMARK_WEBHOOK_AUTH = "postmark:pw"
    settings.MAILGUN_WEBHOOK_SIGNING_KEY = "key-1"
    for body in (b"not json", b"[]", b"\xff\xfe", b'"a string"'):
        for provider in ("ses", "postmark", "mailgun"):
            response = client.post(
                f"/newsletter/webhooks/{provider}/",
                body,
                content_type="text/plain",
                headers={"authorization": "Basic " + base64.b64encode(b"postmark:pw").decode()},
            )
            assert 400 <= response.status_code < 500, (provider, body, response.status_code)
    assert client.get("/newsletter/webhooks/ses/").status_code == 405


# ---------------------------------------------------------------------------
# Postmark


def _postmark(client, record, credentials=b"postmark:s3cret"):
    auth = "Basic " + base64.b64encode(credentials).decode()
    return _post_json(client, "/newsletter/webhooks/postmark/", record, authorization=auth)


POSTMARK_BOUNCE = {
    "RecordType": "Bounce",
    "ID": 4323372036854775807,
    "Type": "HardBounce",
    "TypeCode": 1,
    "Name": "Hard bounce",
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "MessageStream": "broadcast",
    "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
    "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    "Email": "ann@example.org",
    "From": "newsletter@news.example.com",
    "BouncedAt": "2026-11-30T09:12:04Z",
    "Inactive": True,
    "CanActivate": True,
    "Subject": "The week in review",
}


def test_a_postmark_hard_bounce_with_the_right_credentials_bounces(client, reader, settings):
    settings.POSTMARK_WEBHOOK_AUTH = "postmark:s3cret"
    assert _postmark(client, POSTMARK_BOUNCE).status_code == 200
    assert _status(reader) == Subscriber.Status.BOUNCED


def test_a_postmark_spam_complaint_unsubscribes(client, reader, settings):
    settings.POSTMARK_WEBHOOK_AUTH = "postmark:s3cret"
    record = {**POSTMARK_BOUNCE, "RecordType": "SpamComplaint", "Type": "SpamComplaint"}
    _postmark(client, record)
    assert _status(reader) == Subscriber.Status.UNSUBSCRIBED and reader.is_suppressed


def test_postmark_without_the_right_credentials_is_refused(client, reader, settings):
    settings.POSTMARK_WEBHOOK_AUTH = "postmark:s3cret"
    assert _postmark(client, POSTMARK_BOUNCE, b"postmark:guess").status_code == 401
    assert _post_json(client, "/newsletter/webhooks/postmark/", POSTMARK_BOUNCE).status_code == 401
    assert _status(reader) == Subscriber.Status.ACTIVE


# ---------------------------------------------------------------------------
# Mailgun

MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


def _mailgun(event, *, key=MAILGUN_KEY, timestamp=None):
    timestamp = str(int(timestamp or time.time()))
    token = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": event,
    }


MAILGUN_FAILED = {
    "event": "failed",
    "id": "G9Bn5sl1TC6nu79C8C0bwg",
    "timestamp": 1764493924.0,
    "severity": "permanent",
    "reason": "bounce",
    "recipient": "ann@example.org",
    "delivery-status": {
        "code": 550,
        "enhanced-code": "5.1.1",
        "message": "5.1.1 The email account that you tried to reach does not exist.",
        "description": "",
    },
    "message": {"headers": {"to": "ann@example.org", "message-id": "20261130.1@news.example.com"}},
}


def test_a_signed_mailgun_permanent_failure_bounces(client, reader, settings):
    settings.MAILGUN_WEBHOOK_SIGNING_KEY = MAILGUN_KEY
    response = _post_json(client, "/newsletter/webhooks/mailgun/", _mailgun(MAILGUN_FAILED))
    assert response.status_code == 200
    assert _status(reader) == Subscriber.Status.BOUNCED
    assert BounceEvent.objects.get().status_code == "5.1.1"


def test_a_mailgun_temporary_failure_is_a_soft_bounce(client, reader, settings):
    settings.MAILGUN_WEBHOOK_SIGNING_KEY = MAILGUN_KEY
    event = {**MAILGUN_FAILED, "severity": "temporary"}
    _post_json(client, "/newsletter/webhooks/mailgun/", _mailgun(event))
    assert BounceEvent.objects.get().kind == "soft"
    assert _status(reader) == Subscriber.Status.ACTIVE


@pytest.mark.parametrize(
    "payload",
    [
        _mailgun(MAILGUN_FAILED, key="key-someone-else"),
        _mailgun(MAILGUN_FAILED, timestamp=time.time() - 3600),
        {"event-data": MAILGUN_FAILED},
    ],
    ids=["wrong key", "an hour old", "unsigned"],
)
def test_a_mailgun_event_not_signed_now_with_our_key_is_refused(client, reader, settings, payload):
    settings.MAILGUN_WEBHOOK_SIGNING_KEY = MAILGUN_KEY
    assert _post_json(client, "/newsletter/webhooks/mailgun/", payload).status_code == 403
    assert _status(reader) == Subscriber.Status.ACTIVE


# ---------------------------------------------------------------------------
# SendGrid


@pytest.fixture
def sendgrid_key(settings):
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings.SENDGRID_WEBHOOK_PUBLIC_KEY = base64.b64encode(public).decode()
    return key


def _sendgrid(client, key, events, *, tamper=False):
    body = json.dumps(events).encode()
    timestamp = str(int(time.time()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    if tamper:
        body = body.replace(b"ann@", b"bob@")
    return client.post(
        "/newsletter/webhooks/sendgrid/",
        body,
        content_type="application/json",
        headers={
            webhooks.SENDGRID_SIGNATURE: base64.b64encode(signature).decode(),
            webhooks.SENDGRID_TIMESTAMP: timestamp,
        },
    )


def _sendgrid_event(event, email="ann@example.org", **extra):
    return {
        "email": email,
        "timestamp": 1764493924,
        "event": event,
        "sg_event_id": f"{event}-{email}-ZGVmZXJyZWQtMC0yNDc5",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        **extra,
    }


def test_signed_sendgrid_events_are_applied_each(client, sendgrid_key, reader):
    bob = SubscriberFactory(email="bob@example.org")
    response = _sendgrid(
        client,
        sendgrid_key,
        [
            _sendgrid_event("delivered", "bob@example.org"),
            _sendgrid_event("deferred", "ann@example.org", response="400 try again later"),
            _sendgrid_event(
                "bounce", status="5.1.1", type="bounce", reason="550 5.1.1 User unknown"
            ),
            _sendgrid_event("spamreport", "bob@example.org"),
        ],
    )
    assert response.json() == {"recorded": 2, "duplicates": 0, "unmatched": 0}
    assert _status(reader) == Subscriber.Status.BOUNCED
    assert _status(bob) == Subscriber.Status.UNSUBSCRIBED and bob.is_suppressed


def test_an_altered_sendgrid_body_is_refused(client, sendgrid_key, reader):
    bob = SubscriberFactory(email="bob@example.org")
    event = _sendgrid_event("bounce", status="5.1.1", type="bounce")
    assert _sendgrid(client, sendgrid_key, [event], tamper=True).status_code == 403
    assert _status(bob) == Subscriber.Status.ACTIVE


def test_an_event_about_an_unknown_address_is_counted_unmatched(client, sendgrid_key):
    event = _sendgrid_event("bounce", "nobody@example.org", status="5.1.1", type="bounce")
    assert _sendgrid(client, sendgrid_key, [event]).json()["unmatched"] == 1


def test_a_signed_but_misshapen_notification_is_a_400(client, sns, reader):
    message = sns.notification(
        {"notificationType": "Bounce", "bounce": {"bouncedRecipients": ["x"]}}
    )
    assert _post_json(client, "/newsletter/webhooks/ses/", message).status_code == 400
