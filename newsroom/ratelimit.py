"""A small sliding-window rate limiter on Django's cache, reusable by any app.

Limits live in settings.RATELIMITS as "count/period" strings ("20/h", "5/m"), keyed by
a scope name, so operations can tune them without a deploy of code. With REDIS_URL set
every process shares the counters; with the local-memory cache each process counts alone.
"""

import contextlib
import functools
import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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


def hit(scope, identity, *, rate=None, now=None):
    """Count one attempt; return None if allowed, else the seconds to wait before retrying.

    A sliding window approximated from two fixed ones: the previous window's count,
    weighted by how much of it still overlaps the last `period` seconds, plus this
    window's. Unlike a plain fixed window, a burst cannot double up across a boundary.
    """
    count, period = parse_rate(rate) if rate else rate_for(scope)
    now = time.time() if now is None else now
    window = int(now // period)
    elapsed = now - window * period
    digest = hashlib.sha256(str(identity).encode()).hexdigest()[:32]
    key = f"ratelimit:{scope}:{digest}:{window}"
    cache.add(key, 0, timeout=2 * period + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # evicted between add() and incr()
        cache.set(key, 1, timeout=2 * period + 1)
        used = 1
    previous = cache.get(f"ratelimit:{scope}:{digest}:{window - 1}", 0)
    remaining_share = (period - elapsed) / period
    if previous * remaining_share + used <= count:
        return None
    # A refused attempt does not count, so Retry-After is exact: retrying then succeeds.
    with contextlib.suppress(ValueError):
        cache.decr(key)
    if used > count:
        # Into the next window, until this window's `count` has slid far enough out;
        # never more than one period, the most a client of "N per period" should wait.
        wait = (period - elapsed) + period / count
    else:
        wait = (period - elapsed) - (count - used) * period / previous
    return max(1, min(period, math.ceil(wait)))


def client_ip(request):
    """The client's address; behind a proxy, the right-most entry it appended."""
    header = getattr(settings, "RATELIMIT_IP_HEADER", None)
    if header and request.META.get(header):
        return request.META[header].split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


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


def ratelimit(scope, *, key=client_ip, methods=("POST",), template_name=None):
    """Decorator for a view: over the limit for `scope`, answer 429 with Retry-After."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                retry_after = hit(scope, key(request))
                if retry_after is not None:
                    return too_many_requests(request, retry_after, template_name=template_name)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
