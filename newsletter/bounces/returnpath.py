"""The envelope sender of each copy: `bounces+<token>@<BOUNCE_DOMAIN>` (VERP).

A bounce goes back to the envelope sender, so the address it is sent to says which copy
failed, whatever the receiving server puts (or fails to put) in its report. The token
is signed with SECRET_KEY: nobody can write a bounce that marks someone else bounced.
It is lower-case letters, digits and hyphens only, because some servers change the case
of the local part, and short enough for the 64-octet limit on a local part.

    r<issue>-<subscriber>-<mac>   a round-up copy (issue and subscriber ids in base 36)
    c<subscriber>-<mac>           a confirmation email
"""

import dataclasses
import re

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "newsletter.return-path"
TOKEN = re.compile(r"\+([rc](?:[0-9a-z]{1,13}-)?[0-9a-z]{1,13}-[0-9a-f]{16})@", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class ReturnPathToken:
    subscriber_id: int
    issue_id: int | None = None  # None: a confirmation email


def _base36(number):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _mac(payload):
    return salted_hmac(SALT, payload, algorithm="sha256").hexdigest()[:16]


def _address(payload):
    local, _, domain = settings.RETURN_PATH.rpartition("@")
    return f"{local}+{payload}-{_mac(payload)}@{domain}"


def return_path_for(*, issue_id, subscriber_id):
    """The envelope sender of one round-up copy, or None when bounces are not collected."""
    if not settings.RETURN_PATH or not issue_id or not subscriber_id:
        return None
    return _address(f"r{_base36(issue_id)}-{_base36(subscriber_id)}")


def confirmation_return_path(subscriber_id):
    if not settings.RETURN_PATH or not subscriber_id:
        return None
    return _address(f"c{_base36(subscriber_id)}")


def read_token(token):
    """The ReturnPathToken a token stands for, or None if it is not one of ours."""
    token = token.lower()
    payload, _, mac = token.rpartition("-")
    if not payload or not constant_time_compare(mac, _mac(payload)):
        return None
    kind, numbers = payload[0], payload[1:].split("-")
    try:
        values = [int(number, 36) for number in numbers]
    except ValueError:
        return None
    if kind == "r" and len(values) == 2:
        return ReturnPathToken(issue_id=values[0], subscriber_id=values[1])
    if kind == "c" and len(values) == 1:
        return ReturnPathToken(subscriber_id=values[0])
    return None


def find_tokens(text):
    """Every authentic token in `text` (addresses in headers, a report's body …)."""
    found = []
    for match in TOKEN.finditer(text or ""):
        token = read_token(match.group(1))
        if token and token not in found:
            found.append(token)
    return found
