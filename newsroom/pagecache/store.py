"""Kept pages, the marks that say when each key was last purged, and the schedule.

All live in Django's cache (shared by every worker with REDIS_URL). Each worker also
keeps the pages it served most recently in its own memory (PAGE_CACHE_LOCAL_BYTES), so
a hot page costs one small read of its marks instead of fetching the page; that copy is
judged by the same marks, so it is never staler than the shared one.

Scheduled changes reach kept pages on time, with no job. An app registers a schedule
(articles: scheduled publications and front-page expiries) that answers two questions
from the database: which keys came due in a span of time, and when the next moment
is. The cache keeps (checked until, next moment) under DUE; the first request after
that moment purges what came due and finds the next one (`catch_up`).
"""

import logging
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
LAST = "pc:last"  # when the latest purge of any key happened
MARK = "pc:mark:{}"
SHOWN = "pc:shown:{}"
DUE = "pc:due"
# How many of a worker's pages one read of marks judges after a purge (a few ms).
RECHECK_PAGES = 48


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
    first, each with the time its marks were last read and found clean; and its last
    read of the schedule and the latest purge."""

    def __init__(self):
        self.lock = threading.RLock()
        self.pages = OrderedDict()  # key -> (entry, checked at)
        self.size = 0  # bytes of page content held
        self.head, self.head_read_at = {}, float("-inf")

    def get(self, key):
        """(entry, checked at), or (None, None)."""
        with self.lock:
            if key in self.pages:
                self.pages.move_to_end(key)
            return self.pages.get(key, (None, None))

    def put(self, key, entry, checked):
        budget = settings.PAGE_CACHE_LOCAL_BYTES
        if len(entry.content) > budget // 4:
            return
        with self.lock:
            self.drop(key)
            self.pages[key] = (entry, checked)
            self.size += len(entry.content)
            while self.size > budget:
                self.drop(next(iter(self.pages)))

    def drop(self, key):
        with self.lock:
            found = self.pages.pop(key, None)
            self.size -= len(found[0].content) if found else 0

    def recheck(self, first, purged_at):
        """Judge `first` and up to RECHECK_PAGES - 1 more of the pages held here not
        checked since `purged_at`, in one read of their marks: one read per page on its
        next hit took 4 ms against 0.3 from memory, hundreds per worker for every edit,
        and all of them at once held a request for 65 ms. Clean ones count as checked
        now; the others leave this worker's memory."""
        now = time.time()
        with self.lock:
            # The most recently served first: they are the likeliest to be asked for next.
            held = reversed(self.pages.items())
            due = [key for key, (_, checked) in held if checked <= purged_at]
            keys = [first, *(key for key in due if key != first)][:RECHECK_PAGES]
            held = [(key, self.pages[key][0]) for key in keys if key in self.pages]
        names = {MARK.format(name): name for _, entry in held for name in entry.keys}
        marks = {names[mark]: value for mark, value in cache.get_many(list(names)).items()}
        with self.lock:
            for key, entry in held:
                if not is_clean(entry, [marks.get(name, 0) for name in entry.keys], now):
                    self.drop(key)
                elif self.pages.get(key, (None,))[0] is entry:
                    self.pages[key] = (entry, now)

    def read_head(self):
        """{DUE: …, LAST: …}, read at most every PAGE_CACHE_CHECK_SECONDS: a purge made by
        another worker reaches this one's hot pages that much later (this worker's own
        purges at once: `forget_head`)."""
        if time.monotonic() - self.head_read_at >= settings.PAGE_CACHE_CHECK_SECONDS:
            self.head, self.head_read_at = cache.get_many([DUE, LAST]), time.monotonic()
        return self.head


local_pages = LocalPages()


def forget_head():
    local_pages.head_read_at = float("-inf")


def lookup(key):
    """(the page's copy or None, whether it is fresh, the schedule's state). A copy that
    is not fresh is given only when it may be served in an outage: it shows no article
    withdrawn since its render began.

    This worker's copy first: when nothing at all was purged since this worker last
    found its marks clean, it is fresh without reading them (`read_head`: one small
    read, shared by a worker's requests for PAGE_CACHE_CHECK_SECONDS). After a purge,
    every copy it holds is judged in one read (`recheck`); then the shared copy is tried.
    """
    entry, checked = local_pages.get(key)
    if entry is not None:
        head = local_pages.read_head()
        last_purge = head.get(LAST, float("-inf")) + settings.PAGE_CACHE_CLOCK_SKEW_SECONDS
        if checked <= last_purge < time.time():  # a purge since: judge all held at once
            local_pages.recheck(key, last_purge)
            entry, checked = local_pages.get(key)
        if entry is not None and last_purge < checked and time.time() < entry.fresh_until:
            return entry, True, head.get(DUE)
        if entry is not None and (found := judge(key, entry))[1]:
            return found
    entry = cache.get(PAGE.format(key))
    return (None, False, None) if entry is None else judge(key, entry)


def judge(key, entry):
    """Read `entry`'s marks and the schedule in one cache read, and judge it as `lookup`
    says. This worker keeps it while it is fresh."""
    now = time.time()
    marks = cache.get_many([DUE, *(MARK.format(name) for name in entry.keys)])
    due = marks.pop(DUE, None)
    if is_clean(entry, marks.values(), now):
        local_pages.put(key, entry, now)
        return entry, True, due
    local_pages.drop(key)
    since = entry.started - settings.PAGE_CACHE_CLOCK_SKEW_SECONDS
    withdrawn = any(mark < 0 and -mark >= since for mark in marks.values())
    return (None if withdrawn else entry), False, due


def is_clean(entry, marks, now):
    """Fresh at `now`, and none of `marks` (its keys') is a purge after its render began.
    One up to the clock skew before counts too: another host's clock may run ahead."""
    since = entry.started - settings.PAGE_CACHE_CLOCK_SKEW_SECONDS
    return now < entry.fresh_until and all(abs(mark) < since for mark in marks)


def keep(key, response):
    """Keep a page `cached_page` described, as the middleware below it finished it."""
    started, fresh_until, keys = response.page_cache
    entry = Entry(started, fresh_until, keys, dict(response.items()), response.content)
    # Which keys some kept page shows: a change to an object no page shows purges nothing.
    cache.set_many({SHOWN.format(name): 1 for name in keys}, timeout=settings.STALE_PAGE_SECONDS)
    cache.set(PAGE.format(key), entry, timeout=settings.STALE_PAGE_SECONDS)
    # With Django's dummy cache no purge could reach this worker's memory: keep nothing.
    if not isinstance(caches["default"], DummyCache):
        local_pages.put(key, entry, checked=started)


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
        cache.set_many({**marks, LAST: now}, timeout=None)
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
