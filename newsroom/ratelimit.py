"""One fixed-window counter on Django's cache, and the rate limits built on it.

Everything in the project that counts events per period counts them here: the search and
sign-up limits (settings.RATELIMITS), the sign-in throttle per account
(newsroom.login_throttle) and the newsletter's sending cap (`acquire`). Limits are
"count/period" strings ("20/h", "5/m") so operations can tune them without a deploy of
code. With REDIS_URL set every process shares the counters; with the local-memory cache
each process counts alone; the dummy cache counts nothing (no request is ever limited).

Clients are told apart by newsroom.security.client_ip, the project's one reading of the
client address (it honours TRUSTED_PROXY_COUNT).
"""

import contextlib
import functools
import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string

from newsroom.security import client_ip

__all__ = [
    "Window",
    "acquire",
    "client_ip",
    "count",
    "hit",
    "parse_rate",
    "ratelimit",
    "too_many_requests",
]

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

logger = logging.getLogger(__name__)


def parse_rate(rate):
    """ "20/h" -> (20, 3600). A bad value stops loudly rather than silently not limiting."""
    try:
        count, period = rate.split("/")
        count = int(count)
        period = period.strip()
        seconds = int(period[:-1] or 1) * PERIODS[period[-1]]
    except (ValueError, KeyError, IndexError, AttributeError):
        raise ValueError(f"Bad rate {rate!r}: expected 'count/period', e.g. '20/h'.") from None
    if count < 1:
        raise ValueError(f"Bad rate {rate!r}: count must be at least 1.")
    return count, seconds


def rate_for(scope):
    return parse_rate(settings.RATELIMITS[scope])


class Window:
    """The fixed window of `period` seconds that holds `now`, for one scope and identity.

    Identities are hashed before they reach the cache (addresses, e-mail addresses and
    user names are not stored in it).
    """

    def __init__(self, scope, identity, *, period, now=None):
        self.period = period
        self.now = time.time() if now is None else now
        self.number = int(self.now // period)
        self.elapsed = self.now - self.number * period
        digest = hashlib.sha256(str(identity).encode()).hexdigest()[:32]
        self._prefix = f"ratelimit:{scope}:{digest}"
        self.key = f"{self._prefix}:{self.number}"

    @property
    def remaining_seconds(self):
        return self.period - self.elapsed

    def incr(self, amount=1):
        """Count `amount` events in this window; return the window's count.

        A cache that keeps nothing (the dummy cache) makes every call the window's first.
        """
        counted = self.counted(amount)
        return amount if counted is None else counted

    def counted(self, amount=1):
        """incr(), but None when the cache kept nothing (the dummy cache)."""
        timeout = 2 * self.period + 1  # the next window still reads this one
        cache.add(self.key, 0, timeout=timeout)
        try:
            return cache.incr(self.key, amount)
        except ValueError:  # evicted between add() and incr(), or never kept
            cache.set(self.key, amount, timeout=timeout)
            return amount if cache.get(self.key) is not None else None

    def decr(self):
        with contextlib.suppress(ValueError):
            cache.decr(self.key)

    def value(self):
        return cache.get(self.key, 0)

    def previous_value(self):
        return cache.get(f"{self._prefix}:{self.number - 1}", 0)

    def clear(self):
        cache.delete_many([self.key, f"{self._prefix}:{self.number - 1}"])


def count(scope, identity, *, period, now=None, amount=1):
    """Count events in the current fixed window; return how many it now holds."""
    return Window(scope, identity, period=period, now=now).incr(amount)


def acquire(scope, identity, *, limit, period=1, now=None):
    """Take one of `limit` slots per fixed window of `period` seconds.

    Returns 0 when a slot was taken, else the seconds until the window ends (the caller
    sleeps and asks again), or None when the cache cannot count: the dummy cache keeps
    nothing, or the cache server is down. With None the caller limits itself alone.
    For steady caps such as "100 messages a second across every worker" (the
    newsletter's sending throttle), where a burst at a window's edge is harmless;
    request limits use `hit`, which also weighs the previous window.
    """
    window = Window(scope, identity, period=period, now=now)
    try:
        used = window.counted()
        if used is not None and used > limit:
            window.decr()
    except Exception as error:  # the cache server's own errors (redis.ConnectionError …)
        logger.warning("The cache cannot count %s: %s", scope, error)
        return None
    if used is None:
        return None
    return 0 if used <= limit else max(0.001, window.remaining_seconds)


def hit(scope, identity, *, rate=None, now=None):
    """Count one attempt; return None if allowed, else the seconds to wait before retrying.

    A sliding window approximated from two fixed ones: the previous window's count,
    weighted by how much of it still overlaps the last `period` seconds, plus this
    window's. Unlike a plain fixed window, a burst cannot double up across a boundary.
    """
    limit, period = parse_rate(rate) if rate else rate_for(scope)
    window = Window(scope, identity, period=period, now=now)
    used = window.incr()
    previous = window.previous_value()
    remaining_share = window.remaining_seconds / period
    if previous * remaining_share + used <= limit:
        return None
    # A refused attempt does not count, so Retry-After is exact: retrying then succeeds.
    window.decr()
    if used > limit:
        # Into the next window, until this window's `limit` has slid far enough out;
        # never more than one period, the most a client of "N per period" should wait.
        wait = window.remaining_seconds + period / limit
    else:
        wait = window.remaining_seconds - (limit - used) * period / previous
    return max(1, min(period, math.ceil(wait)))


def too_many_requests(request, retry_after, *, template_name=None):
    body = (
        render_to_string(template_name, {"retry_after": retry_after}, request=request)
        if template_name
        else "Too many requests. Please try again later.\n"
    )
    response = HttpResponse(
        body,
        status=429,
        content_type="text/html; charset=utf-8" if template_name else "text/plain",
    )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def _client_key(request):
    # An address we cannot read (a misconfigured proxy) shares one bucket rather than
    # going unlimited.
    return client_ip(request) or "unknown"


def ratelimit(scope, *, key=_client_key, methods=("POST",), template_name=None):
    """Decorator for a view: over the limit for `scope`, answer 429 with Retry-After."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                try:
                    retry_after = hit(scope, key(request))
                except Exception:
                    # The cache is away: readers go through unlimited until it is back.
                    logger.warning("rate limit %s unavailable", scope, exc_info=True)
                    retry_after = None
                if retry_after is not None:
                    return too_many_requests(request, retry_after, template_name=template_name)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
