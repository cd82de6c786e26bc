"""Kept pages and the marks that say when each key was last purged.

Both live in Django's cache (shared by every worker with REDIS_URL). Each worker also
keeps the pages it served most recently in its own memory (PAGE_CACHE_LOCAL_BYTES), so
a hot page costs one small read of its marks instead of fetching the page; that copy is
judged by the same marks, so it is never staler than the shared one.
"""

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.http import HttpResponse
from django.utils.http import http_date

from newsroom.pagecache import purgers

logger = logging.getLogger(__name__)

PAGE = "pc:page:{}"
LAST = "pc:last"  # when the latest purge of any key happened
MARK = "pc:mark:{}"
SHOWN = "pc:shown:{}"
DUE = "pc:due"


@dataclass(frozen=True, slots=True)
class Entry:
    started: float  # when its render began: a purge after this makes it stale
    fresh_until: float
    keys: tuple
    status: int = 200
    headers: tuple = ()
    content: bytes = b""

    @classmethod
    def describe(cls, started, fresh_until, keys):
        return cls(started, fresh_until, tuple(sorted(keys)))

    def with_response(self, response):
        headers = tuple((k, v) for k, v in response.headers.items() if k != "X-Page-Cache")
        return replace(self, status=response.status_code, headers=headers, content=response.content)

    def is_fresh(self, marks, now):
        """Fresh: before `fresh_until` and none of its keys purged since it began."""
        return now < self.fresh_until and self._latest_purge(marks) < self.started

    def may_serve_stale(self, marks):
        """Servable in an outage: shows no article withdrawn since it began."""
        return not any(
            mark < 0 and -mark >= self.started - settings.PAGE_CACHE_CLOCK_SKEW_SECONDS
            for mark in self._marks(marks)
        )

    def _marks(self, marks):
        return (marks[MARK.format(key)] for key in self.keys if MARK.format(key) in marks)

    def _latest_purge(self, marks):
        # Another host's clock may run a little ahead of the one that rendered.
        return max((abs(mark) for mark in self._marks(marks)), default=float("-inf")) + (
            settings.PAGE_CACHE_CLOCK_SKEW_SECONDS
        )

    def response(self):
        return HttpResponse(self.content, status=self.status, headers=dict(self.headers))


def may_share(response):
    # A page that sets a cookie belongs to one reader: never share it.
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "private" not in response.get("Cache-Control", "")
        and "no-store" not in response.get("Cache-Control", "")
    )


def add_validators(response, started):
    if not response.has_header("ETag"):
        digest = hashlib.md5(response.content, usedforsecurity=False).hexdigest()
        response["ETag"] = f'"{digest}"'
    response["Last-Modified"] = http_date(started)


class LocalPages:
    """This worker's most recently served pages, least recently used out first, each
    with the time its marks were last read and found clean."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pages = OrderedDict()  # key -> (entry, checked at)
        self._bytes = 0

    @property
    def size(self):
        """Bytes of page content this worker holds."""
        return self._bytes

    def get(self, key):
        """(entry, checked at), or None."""
        with self._lock:
            found = self._pages.get(key)
            if found is not None:
                self._pages.move_to_end(key)
            return found

    def put(self, key, entry, checked=0.0):
        budget = settings.PAGE_CACHE_LOCAL_BYTES
        if len(entry.content) > budget // 4:
            return
        with self._lock:
            self.drop(key, locked=True)
            self._pages[key] = (entry, checked)
            self._bytes += len(entry.content)
            while self._bytes > budget:
                self.drop(next(iter(self._pages)), locked=True)

    def drop(self, key, locked=False):
        if not locked:
            with self._lock:
                return self.drop(key, locked=True)
        found = self._pages.pop(key, None)
        if found is not None:
            self._bytes -= len(found[0].content)

    def clear(self):
        with self._lock:
            self._pages.clear()
            self._bytes = 0


local_pages = LocalPages()

# This worker's last read of (the schedule, the latest purge): (monotonic time, values).
_head = (float("-inf"), {})


def read_head():
    """{DUE: …, LAST: …}, read at most every PAGE_CACHE_CHECK_SECONDS per worker: a purge
    made by another worker reaches this one's hot pages that much later (this worker's
    own purges at once)."""
    global _head
    read_at, head = _head
    if time.monotonic() - read_at >= settings.PAGE_CACHE_CHECK_SECONDS:
        head = cache.get_many([DUE, LAST])
        _head = (time.monotonic(), head)
    return head


def forget_head():
    global _head
    _head = (float("-inf"), {})


def keeps_pages():
    """False with Django's dummy cache: nothing is kept, and no purge could reach this
    worker's memory either, so every page is rendered."""
    return not isinstance(caches[DEFAULT_CACHE_ALIAS], DummyCache)


def lookup(key):
    """(entry or None, whether it is fresh, its marks, the schedule's state).

    This worker's copy first: when nothing at all was purged since this worker last
    found its marks clean, it is fresh without reading them (`read_head`: one small
    read, shared by a worker's requests for PAGE_CACHE_CHECK_SECONDS). Otherwise its
    marks are read; then the shared copy is tried.
    """
    if not keeps_pages():
        return None, False, {}, None
    found = local_pages.get(key)
    if found is not None:
        entry, checked = found
        head = read_head()
        last = head.get(LAST)
        skew = settings.PAGE_CACHE_CLOCK_SKEW_SECONDS
        if (last is None or last + skew < checked) and time.time() < entry.fresh_until:
            return entry, True, {}, head.get(DUE)
    for source in ("local", "shared"):
        entry = found[0] if source == "local" and found else None
        if source == "shared":
            entry = cache.get(PAGE.format(key))
        if entry is None:
            continue
        checked = time.time()
        marks = cache.get_many([DUE, *(MARK.format(name) for name in entry.keys)])
        due = marks.pop(DUE, None)
        if entry.is_fresh(marks, checked):
            local_pages.put(key, entry, checked)
            return entry, True, marks, due
        local_pages.drop(key)
        if source == "shared":
            return entry, False, marks, due
    return None, False, {}, None


def keep(key, entry):
    if not keeps_pages():
        return
    cache.set(PAGE.format(key), entry, timeout=settings.STALE_PAGE_SECONDS)
    local_pages.put(key, entry, checked=entry.started)
    # Which keys some kept page shows: a change to an object no page shows purges nothing.
    cache.set_many(
        {SHOWN.format(name): 1 for name in entry.keys}, timeout=settings.STALE_PAGE_SECONDS
    )


def is_shown(key):
    """True when a kept page may show `key` (or the cache cannot tell)."""
    try:
        return bool(cache.get(SHOWN.format(key)))
    except Exception:
        return True


def purge(keys, *, withdrawn=(), at=None):
    """Mark `keys` purged now (negative for articles withdrawn from readers) and tell
    the HTTP caches in front. A failure is logged: the editor's change stands."""
    at = time.time() if at is None else at
    marks = {MARK.format(key): -at if key in withdrawn else at for key in keys}
    marks[LAST] = at
    forget_head()
    try:
        cache.set_many(marks, timeout=None)
    except Exception:
        logger.exception("page cache: could not mark %s purged", sorted(keys))
    purgers.send(sorted(keys))
