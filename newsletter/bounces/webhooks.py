"""Bounce and complaint notifications from sending providers, each verified first.

| provider | URL | how we know it is them |
| --- | --- | --- |
| Amazon SES (through SNS) | /newsletter/webhooks/ses/ | the SNS message signature, checked with Amazon's certificate, and a topic in SES_SNS_TOPIC_ARNS |
| Postmark | /newsletter/webhooks/postmark/ | HTTP basic auth (POSTMARK_WEBHOOK_AUTH): Postmark does not sign |
| Mailgun | /newsletter/webhooks/mailgun/ | HMAC-SHA256 of timestamp and token with MAILGUN_WEBHOOK_SIGNING_KEY, at most 15 minutes old |
| SendGrid | /newsletter/webhooks/sendgrid/ | the Signed Event Webhook's ECDSA signature, checked with SENDGRID_WEBHOOK_PUBLIC_KEY |

A provider whose secret is not set answers 404: there is no unauthenticated door. A
forged or altered notification answers 403 and changes nothing; a malformed one 400;
a database outage 503, so the provider tries again (the same event counts once).

Written with `cryptography` rather than each provider's SDK: four small, documented
checks, no SDK (boto3, sendgrid) pulled in for one function each.
"""

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import logging
import re
import time
import urllib.request
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from newsletter.bounces.services import handle_notification
from newsletter.models import BounceEvent

logger = logging.getLogger(__name__)

Kind = BounceEvent.Kind
Source = BounceEvent.Source

SNS_HOST = re.compile(r"\Asns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\Z")
SNS_CERT_SECONDS = 86400
MAILGUN_MAX_AGE = 15 * 60


class Refused(Exception):
    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def webhook(view):
    """POST only, no CSRF (the caller is a server), clear 4xx answers, 503 on outages."""

    @csrf_exempt
    @require_POST
    def wrapper(request):
        try:
            outcomes = view(request)
        except Refused as error:
            logger.warning("Newsletter webhook %s refused: %s", request.path, error.reason)
            return HttpResponse(error.reason, status=error.status, content_type="text/plain")
        except (AttributeError, TypeError, ValueError, KeyError):
            # Authentic but not shaped as the provider documents (checks come first).
            logger.warning("Newsletter webhook %s: malformed notification", request.path)
            return HttpResponse("Malformed notification.", status=400, content_type="text/plain")
        except DatabaseError:
            logger.exception("Newsletter webhook %s: database unavailable", request.path)
            response = HttpResponse("Try again later.", status=503, content_type="text/plain")
            response["Retry-After"] = "60"
            return response
        return JsonResponse(
            {
                "recorded": sum(len(o.recorded) for o in outcomes),
                "duplicates": sum(o.duplicates for o in outcomes),
                "unmatched": sum(o.unmatched for o in outcomes),
            }
        )

    wrapper.__name__ = view.__name__
    return wrapper


def _json(body):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "The body is not JSON.") from None


def _timestamp(value):
    try:
        if isinstance(value, (int, float)):
            return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None


# ---------------------------------------------------------------------------
# Amazon SES through SNS

SNS_FIELDS = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": [
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ],
}
SNS_FIELDS["UnsubscribeConfirmation"] = SNS_FIELDS["SubscriptionConfirmation"]


def http_get(url):
    """GET over HTTPS with certificate checks (Amazon's certificate, SubscribeURL)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def _sns_url(url):
    parts = urlsplit(url or "")
    if parts.scheme != "https" or not SNS_HOST.match(parts.hostname or ""):
        raise Refused(403, "The URL is not Amazon SNS's.")
    return url


def sns_certificate(url):
    """Amazon's signing certificate at `url` (only an SNS host, over HTTPS), kept a day."""
    _sns_url(url)
    if not urlsplit(url).path.endswith(".pem"):
        raise Refused(403, "The signing certificate URL is not a certificate.")
    key = "newsletter:sns-cert:" + hashlib.sha256(url.encode()).hexdigest()
    pem = cache.get(key)
    if pem is None:
        pem = http_get(url)
        cache.set(key, pem, SNS_CERT_SECONDS)
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise Refused(403, "The signing certificate cannot be read.") from None
    now = datetime.datetime.now(datetime.UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise Refused(403, "The signing certificate has expired.")
    return certificate


def verify_sns(message):
    """Check an SNS message's signature (versions 1 and 2) as Amazon documents it."""
    kind = message.get("Type")
    if kind not in SNS_FIELDS:
        raise Refused(400, "Not an SNS message.")
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(str(message.get("SignatureVersion")))
    if algorithm is None:
        raise Refused(403, "Unknown SNS signature version.")
    signed = "".join(
        f"{name}\n{message[name]}\n" for name in SNS_FIELDS[kind] if message.get(name) is not None
    ).encode()
    try:
        signature = base64.b64decode(message.get("Signature") or "", validate=True)
    except binascii.Error:
        raise Refused(403, "The SNS signature is not base64.") from None
    certificate = sns_certificate(message.get("SigningCertURL"))
    try:
        certificate.public_key().verify(signature, signed, padding.PKCS1v15(), algorithm)
    except (InvalidSignature, TypeError, ValueError):
        raise Refused(403, "The SNS signature does not match.") from None
    if message.get("TopicArn") not in settings.SES_SNS_TOPIC_ARNS:
        raise Refused(403, "This SNS topic is not in SES_SNS_TOPIC_ARNS.")


@webhook
def ses(request):
    if not settings.SES_SNS_TOPIC_ARNS:
        raise Http404
    message = _json(request.body)
    if not isinstance(message, dict):
        raise Refused(400, "Not an SNS message.")
    verify_sns(message)
    if message["Type"] == "SubscriptionConfirmation":
        http_get(_sns_url(message.get("SubscribeURL")))
        logger.info("Newsletter: confirmed the SNS subscription to %s", message["TopicArn"])
        return []
    if message["Type"] != "Notification":
        return []
    return ses_notification(_json(message.get("Message") or ""))


def ses_notification(notification):
    """SES's bounce and complaint notifications (and event publishing's same events)."""
    if not isinstance(notification, dict):
        raise Refused(400, "The SES notification is not an object.")
    kind = notification.get("notificationType") or notification.get("eventType")
    mail = notification.get("mail") or {}
    hints = " ".join([str(mail.get("source", "")), json.dumps(mail.get("headers", []))])
    outcomes = []
    if kind == "Bounce":
        bounce = notification.get("bounce") or {}
        event_kind = Kind.HARD if bounce.get("bounceType") == "Permanent" else Kind.SOFT
        for recipient in bounce.get("bouncedRecipients") or []:
            outcomes.append(
                handle_notification(
                    email=recipient.get("emailAddress", ""),
                    kind=event_kind,
                    source=Source.SES,
                    reference=str(bounce.get("feedbackId", "")),
                    status_code=str(recipient.get("status", "")),
                    diagnostic=str(recipient.get("diagnosticCode", ""))
                    or f"{bounce.get('bounceType')}/{bounce.get('bounceSubType')}",
                    occurred_at=_timestamp(mail.get("timestamp")),
                    hints=hints,
                )
            )
    elif kind == "Complaint":
        complaint = notification.get("complaint") or {}
        feedback_type = str(complaint.get("complaintFeedbackType") or "abuse")
        if feedback_type != "not-spam":
            for recipient in complaint.get("complainedRecipients") or []:
                outcomes.append(
                    handle_notification(
                        email=recipient.get("emailAddress", ""),
                        kind=Kind.COMPLAINT,
                        source=Source.SES,
                        reference=str(complaint.get("feedbackId", "")),
                        status_code=feedback_type[:16],
                        diagnostic=f"Feedback-Type: {feedback_type}; User-Agent: "
                        f"{complaint.get('userAgent', '')}",
                        occurred_at=_timestamp(mail.get("timestamp")),
                        hints=hints,
                    )
                )
    return outcomes


# ---------------------------------------------------------------------------
# Postmark

POSTMARK_KINDS = {
    "HardBounce": Kind.HARD,
    "BadEmailAddress": Kind.HARD,
    "ManuallyDeactivated": Kind.HARD,
    "SoftBounce": Kind.SOFT,
    "Transient": Kind.SOFT,
    "DnsError": Kind.SOFT,
    "Blocked": Kind.SOFT,
    "SMTPApiError": Kind.SOFT,
    "SpamComplaint": Kind.COMPLAINT,
    "SpamNotification": Kind.COMPLAINT,
    "Unsubscribe": Kind.UNSUBSCRIBE,
}


@webhook
def postmark(request):
    expected = settings.POSTMARK_WEBHOOK_AUTH
    if not expected:
        raise Http404
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    try:
        given = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        given = ""
    if scheme.lower() != "basic" or not constant_time_compare(given, expected):
        raise Refused(401, "Wrong or missing credentials.")
    record = _json(request.body)
    if not isinstance(record, dict):
        raise Refused(400, "Not a Postmark record.")
    record_type = record.get("RecordType")
    kind = (
        Kind.COMPLAINT if record_type == "SpamComplaint" else POSTMARK_KINDS.get(record.get("Type"))
    )
    if record_type not in ("Bounce", "SpamComplaint") or kind is None:
        return []
    return [
        handle_notification(
            email=str(record.get("Email", "")),
            kind=kind,
            source=Source.POSTMARK,
            reference=str(record.get("ID", "")),
            diagnostic=" ".join(
                str(record.get(name) or "") for name in ("Type", "Description", "Details")
            ).strip(),
            occurred_at=_timestamp(record.get("BouncedAt")),
            hints=str(record.get("Content") or ""),
        )
    ]


# ---------------------------------------------------------------------------
# Mailgun


def verify_mailgun(signature, *, key, now=None):
    try:
        timestamp, token, given = (str(signature[k]) for k in ("timestamp", "token", "signature"))
        age = abs((now or time.time()) - int(timestamp))
    except (KeyError, TypeError, ValueError):
        raise Refused(403, "The Mailgun signature is missing.") from None
    expected = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    if not constant_time_compare(given, expected):
        raise Refused(403, "The Mailgun signature does not match.")
    if age > MAILGUN_MAX_AGE:
        raise Refused(403, "The Mailgun signature is too old.")


@webhook
def mailgun(request):
    key = settings.MAILGUN_WEBHOOK_SIGNING_KEY
    if not key:
        raise Http404
    payload = _json(request.body)
    if not isinstance(payload, dict):
        raise Refused(400, "Not a Mailgun event.")
    verify_mailgun(payload.get("signature"), key=key)
    event = payload.get("event-data") or {}
    name = event.get("event")
    if name == "failed":
        kind = Kind.HARD if event.get("severity") == "permanent" else Kind.SOFT
    else:
        kind = {"complained": Kind.COMPLAINT, "unsubscribed": Kind.UNSUBSCRIBE}.get(name)
    if kind is None:
        return []
    status = event.get("delivery-status") or {}
    headers = (event.get("message") or {}).get("headers") or {}
    return [
        handle_notification(
            email=str(event.get("recipient", "")),
            kind=kind,
            source=Source.MAILGUN,
            reference=str(event.get("id", "")),
            status_code=str(status.get("enhanced-code") or ""),
            diagnostic=" ".join(
                str(part)
                for part in (status.get("code"), status.get("message"), status.get("description"))
                if part
            )
            or str(event.get("reason", "")),
            occurred_at=_timestamp(event.get("timestamp")),
            hints=json.dumps(headers),
        )
    ]


# ---------------------------------------------------------------------------
# SendGrid

SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
SENDGRID_DROPPED = {
    "Bounced Address": Kind.HARD,
    "Invalid": Kind.HARD,
    "Spam Reporting Address": Kind.COMPLAINT,
    "Unsubscribed Address": Kind.UNSUBSCRIBE,
}


def verify_sendgrid(body, *, signature, timestamp, public_key):
    try:
        key = serialization.load_der_public_key(base64.b64decode(public_key))
        raw_signature = base64.b64decode(signature or "", validate=True)
    except (binascii.Error, ValueError):
        raise Refused(403, "The SendGrid signature or key cannot be read.") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise Refused(403, "SENDGRID_WEBHOOK_PUBLIC_KEY is not an ECDSA key.")
    try:
        key.verify(raw_signature, (timestamp or "").encode() + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Refused(403, "The SendGrid signature does not match.") from None


def _sendgrid_kind(event):
    name = event.get("event")
    if name == "bounce":
        return Kind.SOFT if event.get("type") == "blocked" else Kind.HARD
    if name == "dropped":
        return SENDGRID_DROPPED.get(str(event.get("reason", "")))
    return {
        "spamreport": Kind.COMPLAINT,
        "unsubscribe": Kind.UNSUBSCRIBE,
        "group_unsubscribe": Kind.UNSUBSCRIBE,
    }.get(name)


@webhook
def sendgrid(request):
    public_key = settings.SENDGRID_WEBHOOK_PUBLIC_KEY
    if not public_key:
        raise Http404
    verify_sendgrid(
        request.body,
        signature=request.headers.get(SENDGRID_SIGNATURE),
        timestamp=request.headers.get(SENDGRID_TIMESTAMP),
        public_key=public_key,
    )
    events = _json(request.body)
    if not isinstance(events, list):
        raise Refused(400, "Not a list of SendGrid events.")
    outcomes = []
    for event in events:
        kind = _sendgrid_kind(event) if isinstance(event, dict) else None
        if kind is None:
            continue
        outcomes.append(
            handle_notification(
                email=str(event.get("email", "")),
                kind=kind,
                source=Source.SENDGRID,
                reference=str(event.get("sg_event_id", "")),
                status_code=str(event.get("status", ""))[:16],
                diagnostic=str(event.get("reason") or event.get("response") or ""),
                occurred_at=_timestamp(event.get("timestamp")),
            )
        )
    return outcomes
