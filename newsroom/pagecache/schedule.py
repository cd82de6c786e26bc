"""Scheduled changes reach kept pages on time, with no job.

An app registers a schedule (articles: scheduled publications and front-page expiries)
that answers two questions from the database: which keys came due in a span of time,
and when the next moment is. The cache keeps (checked until, next moment); the first
request after that moment purges what came due and finds the next one.
"""

import logging
import time

from django.core.cache import cache

from newsroom.pagecache import store

logger = logging.getLogger(__name__)
_schedules = []


def follows(keys):
    """True for a page the schedule can change: it shows a list, the front page or a
    sitemap, the pages a scheduled publication or expiry changes."""
    return any(key.startswith(("list", "home", "sitemap")) for key in keys)


def register(schedule):
    """`schedule.came_due(since, until)` → keys; `schedule.next_after(moment)` → timestamp or None."""
    _schedules.append(schedule)


def is_passed(due):
    """True when the schedule must be asked again: never asked, or its moment came."""
    return due is None or (due[1] is not None and due[1] <= time.time())


def catch_up(due):
    """Purge what came due since the last check, and return the new (checked, next)."""
    now = time.time()
    keys = set().union(*(s.came_due(due[0], now) for s in _schedules)) if due else set()
    if keys:
        store.purge(keys)
    moments = [moment for s in _schedules if (moment := s.next_after(now)) is not None]
    due = (now, min(moments, default=None))
    cache.set(store.DUE, due, timeout=None)
    store.forget_head()
    return due


def next_moment():
    """The next scheduled change as a timestamp (infinity when none, or when the cache
    cannot tell: nothing is kept then anyway), caught up. A database that is down
    raises, as the page could not be rendered either."""
    try:
        due = cache.get(store.DUE)
    except Exception:
        logger.warning("page cache: schedule unavailable", exc_info=True)
        return float("inf")
    if is_passed(due):
        due = catch_up(due)
    return float("inf") if due[1] is None else due[1]


def forget():
    """Something scheduled changed: ask the schedule again at the next request."""
    try:
        due = cache.get(store.DUE)
        now = time.time()
        cache.set(store.DUE, (due[0] if due else now, now), timeout=None)
        store.forget_head()
    except Exception:
        logger.exception("page cache: could not reset the schedule")
