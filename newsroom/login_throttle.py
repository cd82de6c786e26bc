"""Slow down sign-ins to one account that fail from many addresses, without locking it.

django-axes locks the pair (account, address): a guesser locks only themself. Guessing
one editor's password from a thousand addresses is met here instead: past
settings.LOGIN_THROTTLE_AFTER failures for the account in the last hour or two (from any
address), each further try must wait, 1 s, then 2, 4, 8 … up to
settings.LOGIN_THROTTLE_MAX_SECONDS after the latest failure. Nothing is ever locked: the
editor is told how long to wait, and a correct password together with a one-time code
(an authenticator-app code or a recovery code) is let through at once, since a guesser
has no code (accounts/forms.py).

Failures are counted with newsroom.ratelimit's fixed windows, per lower-cased user name
(existing or not, so the throttle tells nobody which names exist).
"""

import time

from django.conf import settings
from django.core.cache import cache

from newsroom.ratelimit import Window

SCOPE = "login-account"
PERIOD = 60 * 60


def _name(username):
    return (username or "").strip().lower()


def _last_failure_key(window):
    return f"{window._prefix}:last"


def failures(username, *, now=None):
    """Failures for this account in this hour's window and the one before."""
    window = Window(SCOPE, _name(username), period=PERIOD, now=now)
    return window.value() + window.previous_value()


def record_failure(username, *, now=None):
    window = Window(SCOPE, _name(username), period=PERIOD, now=now)
    window.incr()
    cache.set(_last_failure_key(window), window.now, timeout=2 * PERIOD)


def delay_for(failure_count):
    """Seconds each try must wait after the latest failure, growing with every failure."""
    over = failure_count - settings.LOGIN_THROTTLE_AFTER
    if over < 0:
        return 0
    return min(2**over, settings.LOGIN_THROTTLE_MAX_SECONDS)


def wait_seconds(username, *, now=None):
    """How long this account's next sign-in must wait; 0 when it need not."""
    now = time.time() if now is None else now
    delay = delay_for(failures(username, now=now))
    if not delay:
        return 0
    window = Window(SCOPE, _name(username), period=PERIOD, now=now)
    last = cache.get(_last_failure_key(window))
    if last is None:
        return 0
    return max(0, int(-(-(last + delay - now) // 1)))


def clear(username, *, now=None):
    """A successful sign-in (with a second factor when the account has one) starts over."""
    window = Window(SCOPE, _name(username), period=PERIOD, now=now)
    window.clear()
    cache.delete(_last_failure_key(window))
