"""The full-page cache for anonymous readers.

Every cached page is stored under the current *generation*. A content change (see
signals.py) starts a new generation, so every page is rebuilt on its next request;
nothing has to know which pages showed the changed object. The generation also
remembers when the next scheduled article comes due: the first request after that
moment starts a new generation, so a scheduled story appears on time with no job.

Pages also carry `Cache-Control` (with `s-maxage` and `stale-while-revalidate` for a
CDN), an `ETag` and `Last-Modified`, and answer a conditional GET with 304.
Staff, and anyone who sends a session cookie, bypass the cache entirely.
"""

import hashlib
import time
from datetime import UTC, datetime
from functools import partial, wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

STATE_KEY = "pages:state"
PAGE_KEY = "pages:{generation}:{method}:{path}"
END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)
BROWSER_MAX_AGE = 60
STALE_WHILE_REVALIDATE = 60


def _next_due():
    """When the next article already scheduled becomes public, as a timestamp."""
    from articles.models import Article

    now = timezone.now()
    # Everything that will be public at the end of time, less what is public now.
    upcoming = Article.objects.published(now=END_OF_TIME)
    first = (
        upcoming.filter(publish_at__gt=now)
        .order_by("publish_at")
        .values_list("publish_at", flat=True)[:1]
    )
    first = list(first)
    return first[0].timestamp() if first else None


# This worker's copy of the state: (monotonic time it was read, state).
_memo = (float("-inf"), None)


def _remember(state):
    global _memo
    _memo = (time.monotonic(), state)
    return state


def _new_state():
    # Nanoseconds rather than a counter: a flushed cache can never bring back an old
    # generation number, so stale entries (and ETags) never match a new one.
    state = {"generation": time.time_ns(), "changed_at": int(time.time()), "due": _next_due()}
    cache.set(STATE_KEY, state, timeout=None)
    return _remember(state)


def current_state():
    """The current generation, starting a new one when a scheduled article came due.

    A worker trusts the state it read for PAGE_STATE_MEMO_SECONDS, so a cache hit
    costs one cache read; another worker's new generation shows here that much later.
    """
    read_at, state = _memo
    if state is None or time.monotonic() - read_at >= settings.PAGE_STATE_MEMO_SECONDS:
        state = cache.get(STATE_KEY)
        if state is None:
            return _new_state()
        _remember(state)
    if state["due"] is not None and state["due"] <= time.time():
        return _new_state()
    return state


def invalidate():
    """Start a new generation: every cached page is rebuilt on its next request."""
    _new_state()


def invalidate_on_commit():
    transaction.on_commit(invalidate)


def bypasses_cache(request):
    """Staff and people with a session (logged in, or mid-signup) get fresh pages."""
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def _public_headers(response, state):
    patch_cache_control(
        response,
        public=True,
        max_age=BROWSER_MAX_AGE,
        s_maxage=settings.CACHE_PAGE_SECONDS,
        stale_while_revalidate=STALE_WHILE_REVALIDATE,
    )
    response["Last-Modified"] = http_date(state["changed_at"])
    if not response.has_header("ETag"):
        digest = hashlib.md5(response.content, usedforsecurity=False).hexdigest()
        response["ETag"] = f'"{digest}"'


def _storable(response):
    # A page that sets a cookie belongs to one reader: never share it.
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "private" not in response.get("Cache-Control", "")
    )


def _freeze(response):
    """One pre-serialised value: the body, the status and the headers (ETag included)."""
    return (response.content, response.status_code, tuple(response.headers.items()))


def _thaw(frozen):
    content, status, headers = frozen
    response = HttpResponse(content, status=status, headers=dict(headers))
    response["X-Page-Cache"] = "hit"
    return response


def cached_page(view=None, *, store=True):
    """Serve `view` from the page cache to anonymous GET and HEAD requests.

    With `store=False` (search: endless distinct URLs) pages get the same headers and
    validators but are not kept server-side.
    """
    if view is None:
        return partial(cached_page, store=store)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or bypasses_cache(request):
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_cache=True)
            return response

        state = current_state()
        key = PAGE_KEY.format(
            generation=state["generation"],
            method="GET",
            path=hashlib.md5(request.get_full_path().encode(), usedforsecurity=False).hexdigest(),
        )
        frozen = cache.get(key) if store else None
        if frozen is not None:
            response = _thaw(frozen)
        else:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
            if not _storable(response):
                return response
            _public_headers(response, state)
            if store:
                cache.set(key, _freeze(response), timeout=settings.CACHE_PAGE_SECONDS)
                response["X-Page-Cache"] = "miss"
        conditional = get_conditional_response(
            request,
            etag=response.get("ETag"),
            last_modified=state["changed_at"],
            response=response,
        )
        return conditional

    return wrapper
