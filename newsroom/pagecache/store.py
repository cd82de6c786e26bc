"""Kept pages, the marks that say when each key was last purged, the log of purges,
and the schedule.

All live in Django's cache (shared by every worker with REDIS_URL). Each worker also
keeps the pages it served most recently in its own memory (PAGE_CACHE_LOCAL_BYTES): a
hot page costs no read at all while nothing is purged, and each purge's keys, read from
the log, drop the copies that show them, so it is never staler than the shared one.

Scheduled changes reach kept pages on time, with no job. An app registers a schedule
(articles: scheduled publications and front-page expiries) that answers two questions
from the database: which keys came due in a span of time, and when the next moment
is. The cache keeps (checked until, next moment) under DUE; the first request after
that moment purges what came due and finds the next one (`catch_up`).
"""

import logging
import random
import threading
import time
from collections import OrderedDict
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache

from newsroom.pagecache import purgers

logger = logging.getLogger(__name__)
_schedules = []

PAGE = "pc:page2:{}"  # a new name whenever Entry's fields change: older copies go unread
MARK = "pc:mark:{}"
SHOWN = "pc:shown:{}"
DUE = "pc:due"
PURGES = "pc:purges"  # how many purges there have been: the number of the latest
PURGED = "pc:purged:{}"  # the keys of purge number n, kept for an hour
PURGES_HELD = 256  # this worker reads at most so many purges at once, else forgets all


class Entry(NamedTuple):
    started: float  # when its render began: a purge after this makes it stale
    fresh_until: float
    keys: tuple
    headers: dict
    content: bytes


def may_share(response):
    # A page that sets a cookie belongs to one reader: never share it.
    cache_control = response.get("Cache-Control", "")
    private = "private" in cache_control or "no-store" in cache_control
    return response.status_code == 200 and not (response.streaming or response.cookies or private)


class LocalPages:
    """This worker's memory: the pages it served most recently, least recently used out
    first, clean up to purge number `seen`; the keys of the purges it took in (by
    number); and its last read of the schedule and the purge count.

    Each purge is numbered and its keys logged, so after one a worker drops only the
    pages that show a purged key, with one read for any number of pages. (Reading the
    marks of every page it held cost up to 65 ms of one request per purge; reading one
    page's marks on its next hit, 4 ms a page against 0.3 from memory.)"""

    def __init__(self):
        self.lock = threading.RLock()
        self.pages = OrderedDict()  # key -> entry
        self.size = 0  # bytes of page content held
        self.seen, self.purged = 0, {}
        self.head, self.head_read_at = {}, float("-inf")

    def get(self, key):
        with self.lock:
            if key in self.pages:
                self.pages.move_to_end(key)
            return self.pages.get(key)

    def put(self, key, entry, seen):
        """Keep `entry`, clean up to purge number `seen`; the later purges taken in
        already are applied to it now."""
        budget = settings.PAGE_CACHE_LOCAL_BYTES
        with self.lock:
            later = range(seen + 1, self.seen + 1)
            self.drop(key)
            if len(entry.content) > budget // 4 or len(later) > PURGES_HELD:
                return
            if any(self.purged.get(n, {"all"}).intersection(entry.keys) for n in later):
                return
            self.pages[key] = entry
            self.size += len(entry.content)
            while self.size > budget:
                self.drop(next(iter(self.pages)))

    def drop(self, key):
        with self.lock:
            found = self.pages.pop(key, None)
            self.size -= len(found.content) if found else 0

    def take_in(self, count):
        """Apply the purges after `seen` up to number `count`: drop the pages they
        purge. Any purge the log no longer (or not yet) holds, or a count that went
        back (the cache was emptied), drops every page."""
        if count == self.seen:
            return
        # A worker that saw no count yet reads it from its start.
        numbers = range(self.seen + 1 if self.seen else (count >> 32 << 32) + 1, count + 1)
        names = {PURGED.format(n): n for n in numbers} if 0 < len(numbers) <= PURGES_HELD else {}
        logged = cache.get_many(list(names)) if names else {}
        found = {names[name]: set(keys) for name, keys in logged.items()}
        with self.lock:
            if count < self.seen or len(found) < len(numbers):
                self.pages.clear()
                self.size, self.purged = 0, {}
            purged = set().union(*found.values())
            for key in [
                key for key, entry in self.pages.items() if purged.intersection(entry.keys)
            ]:
                self.drop(key)
            self.purged = {
                n: keys for n, keys in {**self.purged, **found}.items() if n > count - PURGES_HELD
            }
            self.seen = count

    def read_head(self):
        """{DUE: …, PURGES: …}, read at most every PAGE_CACHE_CHECK_SECONDS, and the
        purges since taken in: a purge made by another worker reaches this one's hot
        pages that much later (this worker's own purges at once: `forget_head`)."""
        if time.monotonic() - self.head_read_at >= settings.PAGE_CACHE_CHECK_SECONDS:
            self.head, self.head_read_at = cache.get_many([DUE, PURGES]), time.monotonic()
            self.take_in(self.head.get(PURGES, 0))
        return self.head


local_pages = LocalPages()


def forget_head():
    local_pages.head_read_at = float("-inf")


def lookup(key):
    """(the page's copy or None, whether it is fresh, the schedule's state). A copy that
    is not fresh is given only when it may be served in an outage: it shows no article
    withdrawn since its render began.

    This worker's copy first: it is fresh until its time, as the purges taken in
    (`read_head`) leave it here. Then the shared copy, judged by its keys' marks.
    """
    head = local_pages.read_head()
    entry = local_pages.get(key)
    if entry is not None and time.time() < entry.fresh_until:
        return entry, True, head.get(DUE)
    entry = cache.get(PAGE.format(key))
    return (None, False, None) if entry is None else judge(key, entry)


def judge(key, entry):
    """Read `entry`'s marks and the schedule in one cache read, and judge it as `lookup`
    says: fresh in its time while none of its keys was purged after its render began
    (or up to the clock skew before: another host's clock may run ahead). This worker
    keeps it while it is fresh."""
    now, seen = time.time(), local_pages.seen
    marks = cache.get_many([DUE, *(MARK.format(name) for name in entry.keys)])
    due = marks.pop(DUE, None)
    since = entry.started - settings.PAGE_CACHE_CLOCK_SKEW_SECONDS
    if now < entry.fresh_until and all(abs(mark) < since for mark in marks.values()):
        local_pages.put(key, entry, seen)
        return entry, True, due
    local_pages.drop(key)
    withdrawn = any(-mark >= since for mark in marks.values())  # marks < 0: withdrawn
    return (None if withdrawn else entry), False, due


def keep(key, response, seen):
    """Keep a page `cached_page` described, as the middleware below it finished it;
    `seen`: this worker's purge number when its render began."""
    started, fresh_until, keys = response.page_cache
    entry = Entry(started, fresh_until, keys, dict(response.items()), response.content)
    # Which keys some kept page shows: a change to an object no page shows purges nothing.
    cache.set_many({SHOWN.format(name): 1 for name in keys}, timeout=settings.STALE_PAGE_SECONDS)
    cache.set(PAGE.format(key), entry, timeout=settings.STALE_PAGE_SECONDS)
    if not isinstance(caches["default"], DummyCache):  # which no purge could reach
        local_pages.put(key, entry, seen)


def is_shown(key):
    """True when a kept page may show `key` (or the cache cannot tell)."""
    try:
        return bool(cache.get(SHOWN.format(key)))
    except Exception:
        return True


def purge(keys, *, withdrawn=()):
    """Mark `keys` purged now (negative for articles withdrawn from readers) and tell
    the HTTP caches in front. A failure is logged: the editor's change stands."""
    now = time.time()
    marks = {MARK.format(key): -now if key in withdrawn else now for key in keys}
    try:
        cache.set_many(marks, timeout=None)
        if not isinstance(caches["default"], DummyCache):  # which counts nothing
            # A count starts at a random multiple of 2**32: one begun again (the cache
            # was emptied) never meets a worker's old number.
            cache.add(PURGES, random.randrange(1, 2**30) << 32, timeout=None)
            number = cache.incr(PURGES)  # atomic: every worker's purges share one count
            cache.set(PURGED.format(number), sorted(keys), timeout=3600)
    except Exception:
        logger.exception("page cache: could not mark %s purged", sorted(keys))
    forget_head()
    purgers.send(sorted(keys))


def follows(keys):
    """True for a page the schedule can change: it shows a list, the front page or a
    sitemap, the pages a scheduled publication or expiry changes."""
    return any(key.startswith(("list", "home", "sitemap")) for key in keys)


def register_schedule(schedule):
    """Ask `schedule` too: `schedule.came_due(since, until)` → keys;
    `schedule.next_after(moment)` → timestamp or None."""
    _schedules.append(schedule)


def is_passed(due):
    """True when the schedule must be asked again: never asked, or its moment came."""
    return due is None or (due[1] is not None and due[1] <= time.time())


def catch_up(due):
    """Purge what came due since the last check, and return the new (checked, next)."""
    now = time.time()
    keys = set().union(*(s.came_due(due[0], now) for s in _schedules)) if due else set()
    if keys:
        purge(keys)
    moments = [moment for s in _schedules if (moment := s.next_after(now)) is not None]
    due = (now, min(moments, default=None))
    cache.set(DUE, due, timeout=None)
    forget_head()
    return due


def next_moment():
    """The next scheduled change as a timestamp (infinity when none, or when the cache
    cannot tell: nothing is kept then anyway), caught up. A database that is down
    raises, as the page could not be rendered either."""
    try:
        due = cache.get(DUE)
    except Exception:
        logger.warning("page cache: schedule unavailable", exc_info=True)
        return float("inf")
    if is_passed(due):
        due = catch_up(due)
    return float("inf") if due[1] is None else due[1]


def forget():
    """Something scheduled changed: ask the schedule again at the next request."""
    try:
        due = cache.get(DUE) or (time.time(), None)  # never asked: nothing came due before now
        cache.set(DUE, (due[0], time.time()), timeout=None)
        forget_head()
    except Exception:
        logger.exception("page cache: could not reset the schedule")
