"""The full-page cache for anonymous readers.

Every cached page is stored under the current *generation*. A content change (see
signals.py) starts a new generation, so every page is rebuilt on its next request;
nothing has to know which pages showed the changed object. The generation also
remembers when the next scheduled article comes due: the first request after that
moment starts a new generation, so a scheduled story appears on time with no job.

Pages also carry `Cache-Control` (with `s-maxage` and `stale-while-revalidate` for a
CDN), an `ETag` and `Last-Modified`, and answer a conditional GET with 304.
Staff, and anyone who sends a session cookie, bypass the cache entirely.

Two halves: the `cached_page` view decorator decides which pages may be kept (it
renders them and marks them `X-Page-Cache: miss`); `PageCacheMiddleware`, near the top
of the middleware stack, keeps what the decorator marked and serves it. A hit therefore
skips sessions, CSRF, authentication, messages, URL resolution and gzip: the page is
kept as it left the stack below, already compressed for readers who accept gzip (one
copy per encoding). Each worker also keeps the pages it served most recently in its
own memory under the same generation, so a hot page costs no cache round trip.
"""

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction
from django.http import HttpResponse
from django.middleware.gzip import re_accepts_gzip
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.safestring import mark_safe

logger = logging.getLogger(__name__)

STATE_KEY = "pages:state"
PAGE_KEY = "pages:{generation}:{encoding}:{path}"
END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)
BROWSER_MAX_AGE = 60
STALE_WHILE_REVALIDATE = 60


def _next_due():
    """When the next scheduled article becomes public or front-page story expires, as a timestamp."""
    from articles.models import Article, FrontPageStory

    now = timezone.now()
    # Everything that will be public at the end of time, less what is public now.
    upcoming = Article.objects.published(now=END_OF_TIME)
    first = (
        upcoming.filter(publish_at__gt=now)
        .order_by("publish_at")
        .values_list("publish_at", flat=True)[:1]
    )
    # A front-page story's expiry drops it back into the stream at that moment.
    expiring = (
        FrontPageStory.objects.filter(expires_at__gt=now)
        .order_by("expires_at")
        .values_list("expires_at", flat=True)[:1]
    )
    moments = [*first, *expiring]
    return min(moments).timestamp() if moments else None


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


OBJECT_SIZE_ESTIMATE = 2048


def kept(name, build, *, size):
    """`build()`, kept for this generation in this worker's memory and the shared cache.

    For the parts of pages that change only with the content: any change starts a new
    generation, so a kept value is exactly as fresh as a cached page. `size(value)`
    counts against PAGE_CACHE_LOCAL_BYTES. A None from `build()` is never kept.
    """
    generation = current_state()["generation"]
    key = f"kept:{generation}:" + hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()
    value = local_parts.get(key, generation)
    if value is None:
        value = cache.get(key)
        if value is None:
            value = build()
            if value is None:
                return None
            cache.set(key, value, timeout=settings.CACHE_PAGE_SECONDS)
        local_parts.put(key, generation, value, size=size(value))
    return value


def kept_fragment(name, build):
    """An HTML fragment, kept (see kept())."""
    return mark_safe(kept(name, lambda: str(build()), size=len))


def kept_object(name, load):
    """A model instance (or None), kept (see kept()): the owner of a listing (its
    section, author or tag), looked up by slug on every page of it. Unknown slugs are
    not kept, so they cannot fill the cache."""
    return kept(name, load, size=lambda value: OBJECT_SIZE_ESTIMATE)


def invalidate():
    """Start a new generation: every cached page is rebuilt on its next request."""
    _new_state()


def invalidate_on_commit():
    transaction.on_commit(invalidate)


def is_anonymous_read(request):
    """A GET or HEAD from someone without a session: what shared copies may answer.

    Staff and people with a session (logged in, or mid-signup) always get fresh pages.
    """
    return request.method in ("GET", "HEAD") and settings.SESSION_COOKIE_NAME not in request.COOKIES


def bypasses_cache(request):
    if not is_anonymous_read(request):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def page_key(request, state):
    encoding = (
        "gzip"
        if re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        else "identity"
    )
    return PAGE_KEY.format(
        generation=state["generation"],
        encoding=encoding,
        path=hashlib.md5(request.get_full_path().encode(), usedforsecurity=False).hexdigest(),
    )


class LocalPages:
    """The pages this worker served most recently, for the current generation only.

    Bounded by bytes (PAGE_CACHE_LOCAL_BYTES), least recently used first out. Entries
    never outlive the shared cache's timeout, and a new generation empties it, so it is
    never staler than the generation memo already allows.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._generation = None
        self._pages = OrderedDict()  # key -> (expires at, size, frozen)
        self._bytes = 0

    def _follow(self, generation):
        """Forget everything kept for an older generation (call with the lock held)."""
        if generation != self._generation:
            self._generation = generation
            self._pages.clear()
            self._bytes = 0

    def get(self, key, generation):
        with self._lock:
            self._follow(generation)
            entry = self._pages.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            return entry[2]

    def put(self, key, generation, frozen, size=None):
        size = len(frozen[0]) if size is None else size
        budget = settings.PAGE_CACHE_LOCAL_BYTES
        if size > budget // 4:
            return
        expires = time.monotonic() + settings.CACHE_PAGE_SECONDS
        with self._lock:
            self._follow(generation)
            if key in self._pages:
                self._drop(key)
            self._pages[key] = (expires, size, frozen)
            self._bytes += size
            while self._bytes > budget:
                self._drop(next(iter(self._pages)))

    def _drop(self, key):
        self._bytes -= self._pages.pop(key)[1]


local_pages = LocalPages()
# The parts pages are assembled from (kept()), under the same rules and budget.
local_parts = LocalPages()


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
        and response.get("X-Page-Cache") == "miss"
        and not response.streaming
        and not response.cookies
        and "private" not in response.get("Cache-Control", "")
    )


def _freeze(response):
    """One pre-serialised value: the body, the status and the headers (ETag included)."""
    headers = tuple(
        (name, value) for name, value in response.headers.items() if name != "X-Page-Cache"
    )
    return (response.content, response.status_code, headers)


def _thaw(frozen):
    content, status, headers = frozen
    response = HttpResponse(content, status=status, headers=dict(headers))
    response["X-Page-Cache"] = "hit"
    return response


def _conditional(request, response, state):
    return get_conditional_response(
        request,
        etag=response.get("ETag"),
        last_modified=state["changed_at"],
        response=response,
    )


class PageCacheMiddleware:
    """Serve and keep the pages `cached_page` marked, above the rest of the stack.

    Place it after SecurityMiddleware (an http request to an https site must still be
    redirected) and WhiteNoise (static files never ask the cache), before GZipMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_anonymous_read(request):
            return self.get_response(request)
        try:
            state = current_state()
            key = page_key(request, state)
            frozen = local_pages.get(key, state["generation"])
            if frozen is None:
                frozen = cache.get(key)
                if frozen is not None:
                    local_pages.put(key, state["generation"], frozen)
        except (OperationalError, InterfaceError):
            # A new generation needs the database. Let the stack below answer: it
            # serves the page's stale copy or the 503 page.
            return self.get_response(request)
        except Exception:
            # The cache is down: pages that do not need it (/healthz) still answer.
            logger.warning("page cache unavailable", exc_info=True)
            return self.get_response(request)
        if frozen is not None:
            return _conditional(request, _thaw(frozen), state)

        request.page_cache_state = state
        response = self.get_response(request)
        if _storable(response):
            frozen = _freeze(response)
            cache.set(key, frozen, timeout=settings.CACHE_PAGE_SECONDS)
            local_pages.put(key, state["generation"], frozen)
        return response


def cached_page(view):
    """Let PageCacheMiddleware keep and serve `view` for anonymous GET and HEAD requests:
    public pages get Cache-Control, an ETag and Last-Modified, and are marked to keep."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if bypasses_cache(request):
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_cache=True)
            return response

        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        if (
            response.status_code != 200
            or response.streaming
            or response.cookies
            or "private" in response.get("Cache-Control", "")
        ):
            return response
        state = getattr(request, "page_cache_state", None) or current_state()
        _public_headers(response, state)
        response["X-Page-Cache"] = "miss"
        return _conditional(request, response, state)

    return wrapper
