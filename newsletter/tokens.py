"""Signed tokens for the links in our emails.

A token names a subscriber by primary key plus a short keyed digest of the address, never
the address itself (it would leak into server logs and browser history). The digest
means a token stops working once its address is erased, even if the row id were reused.
"""

import datetime
import time

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

CONFIRM_SALT = "newsletter.confirm"
UNSUBSCRIBE_SALT = "newsletter.unsubscribe"


class TokenExpired(Exception):
    """Authentic but too old: the page offers a fresh link to subscriber_id."""

    def __init__(self, subscriber_id):
        super().__init__(subscriber_id)
        self.subscriber_id = subscriber_id


class TokenInvalid(Exception):
    """Tampered with, truncated or for someone else."""


def _digest(email):
    return salted_hmac("newsletter.address", email.lower(), algorithm="sha256").hexdigest()[:12]


def _payload(subscriber):
    return {"s": subscriber.pk, "h": _digest(subscriber.email)}


def make_confirm_token(subscriber):
    # "i", when the link was made: a link made before the reader unsubscribed carries no
    # consent after it (newsletter.services.confirm_subscription).
    payload = {**_payload(subscriber), "i": round(time.time(), 3)}
    return signing.dumps(payload, salt=CONFIRM_SALT, compress=True)


def make_unsubscribe_token(subscriber):
    # No expiry: an unsubscribe link in a years-old email must still work (RFC 8058).
    return signing.dumps(_payload(subscriber), salt=UNSUBSCRIBE_SALT, compress=True)


def _load(token, *, salt, max_age=None):
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise TokenInvalid from None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        raise TokenInvalid
    return data


def _subscriber_for(data):
    from newsletter.models import Subscriber

    subscriber = Subscriber.objects.filter(pk=data["s"]).first()
    if subscriber is None or _digest(subscriber.email) != data.get("h"):
        raise TokenInvalid
    return subscriber


def read_confirm_link(token):
    """(subscriber, when the link was made); TokenExpired or TokenInvalid otherwise.

    Links made before links carried their time count as made at the epoch: older than
    any unsubscription.
    """
    max_age = datetime.timedelta(days=settings.NEWSLETTER_CONFIRM_DAYS)
    try:
        data = _load(token, salt=CONFIRM_SALT, max_age=max_age)
    except signing.SignatureExpired:
        data = _load(token, salt=CONFIRM_SALT)
        raise TokenExpired(_subscriber_for(data).pk) from None
    issued = data.get("i", 0)
    if not isinstance(issued, (int, float)):
        raise TokenInvalid
    issued_at = datetime.datetime.fromtimestamp(issued, tz=datetime.UTC)
    return _subscriber_for(data), issued_at


def read_confirm_token(token):
    """The subscriber the token names; TokenExpired or TokenInvalid otherwise."""
    return read_confirm_link(token)[0]


def read_unsubscribe_token(token):
    return _subscriber_for(_load(token, salt=UNSUBSCRIBE_SALT))
