"""The page cache: whole anonymous pages, each knowing what it shows.

A view wrapped in `cached_page` is kept for anonymous GET and HEAD requests (no
session cookie). While it renders it names what it shows with `depends_on(request,
"a12", "s3", "list", …)`: articles `a<pk>`, sections `s<pk>`, authors `au<pk>`, tags
`t<pk>`, images `i<pk>`, lists that a newly public article can join (`list`,
`list:s<pk>`, `list:au<pk>`, `list:t<pk>`), and `home`, `notes`, `sitemap`; every page
also carries `all` and `nav`. When something readers can see changes, its keys are
purged on commit, once per transaction (`purge_on_commit`, called by
articles/signals.py). A purge writes the time into each key's mark; a kept page is
fresh while none of its keys was purged after its render began. Nothing else is ever
invalidated, so a draft saved every second costs readers nothing.

The same keys travel to HTTP caches in front: responses carry them as `xkey`
(Varnish), `Surrogate-Key` (Fastly) and `Cache-Tag` (Cloudflare), and the purge is
sent there too (`purgers.send`).

Scheduled articles appear on time with no job: the moment of the next scheduled change
is kept beside the marks; the first request after it asks the registered schedule
what came due, purges those keys, and finds the next moment (`store.catch_up`). Pages
with a list key are also fresh only until that moment, so an HTTP cache in front
(s-maxage) follows too.

A kept page outlives its freshness (STALE_PAGE_SECONDS) so it can be served while the
database is down, unless it shows an article withdrawn since (`purge(withdrawn=…)`).

Here: what apps call. `middleware.py` answers and keeps pages, `store.py` holds them,
the marks and the schedule, `purgers.py` purges the HTTP caches.
"""

import math
import time
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.cache import patch_cache_control, set_response_etag
from django.utils.http import http_date

from newsroom.pagecache import store
from newsroom.pagecache.store import is_shown, purge, register_schedule

__all__ = ["cached_page", "depends_on", "is_shown", "purge", "purge_on_commit", "register_schedule"]


def is_anonymous_read(request):
    """A GET or HEAD from someone without a session: what a shared copy may answer.

    Staff and people with a session (signed in, or mid-signup) always get fresh pages.
    """
    return request.method in ("GET", "HEAD") and settings.SESSION_COOKIE_NAME not in request.COOKIES


def depends_on(request, *keys):
    """Say that the page being rendered for `request` shows these objects."""
    if not hasattr(request, "page_cache_keys"):
        request.page_cache_keys = {"all", "nav"}  # on every page
    request.page_cache_keys.update(keys)


def cached_page(view, *, query=(), keys=()):
    """Let PageCacheMiddleware keep `view`'s pages; `query` names the only parameters
    it reads (anything else, such as ?utm_source=, is the plain page's), `keys` what
    every page of it shows."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        started = getattr(request, "page_cache_started", None) or time.time()
        depends_on(request, *keys)
        response = view(request, *args, **kwargs)
        if hasattr(response, "render"):
            response = response.render()
        if not is_anonymous_read(request) or request.user.is_authenticated:
            patch_cache_control(response, private=True, no_cache=True)
        elif store.may_share(response):
            _mark_shareable(request, response, started)
        return response

    wrapper.page_cache_query = tuple(query)
    return wrapper


def _mark_shareable(request, response, started):
    keys = sorted(request.page_cache_keys)
    fresh_until = started + settings.CACHE_PAGE_SECONDS
    if store.follows(keys):
        fresh_until = min(fresh_until, store.next_moment())
    response["xkey"] = response["Surrogate-Key"] = " ".join(keys)
    response["Cache-Tag"] = ",".join(keys)
    s_maxage = max(0, math.ceil(fresh_until - time.time()))
    patch_cache_control(
        response, public=True, max_age=60, s_maxage=s_maxage, stale_while_revalidate=60
    )
    set_response_etag(response)
    response["Last-Modified"] = http_date(started)
    response.page_cache = (started, fresh_until, tuple(keys))  # what PageCacheMiddleware keeps


class Batch:
    """One purge per transaction, whatever number of saves asked for one.

    Each save's keys join the transaction's pending purge, which Django runs on commit.
    Joining hands the keys gathered so far to a new batch at the end of the commit list
    and leaves the old one empty, so the batch always runs after the saves that asked
    for it. Batches belong to no savepoint: keys asked for inside a savepoint that rolls
    back are still purged (harmless), and a rollback can never lose keys asked for
    outside it.
    """

    def __init__(self, keys=(), withdrawn=(), reschedule=False):
        self.keys, self.withdrawn, self.reschedule = set(keys), set(withdrawn), reschedule

    def take(self, earlier):
        """Take over what an earlier batch holds, leaving it empty."""
        self.keys |= earlier.keys
        self.withdrawn |= earlier.withdrawn
        self.reschedule |= earlier.reschedule
        earlier.__init__()

    def __call__(self):
        if self.reschedule:
            store.forget()
        if self.keys:
            store.purge(self.keys, withdrawn=self.withdrawn)


def purge_on_commit(keys=(), *, withdrawn=(), reschedule=False, using=DEFAULT_DB_ALIAS):
    """Purge `keys` (and `withdrawn`: articles no longer public) when the transaction
    commits, at once outside one. `reschedule`: a scheduled moment may have moved."""
    batch = Batch(set(keys) | set(withdrawn), withdrawn, reschedule)
    connection = connections[using]
    if not connection.in_atomic_block:
        batch()
        return
    for _, earlier, _ in connection.run_on_commit:
        if isinstance(earlier, Batch):
            batch.take(earlier)
    connection.run_on_commit.append((set(), batch, True))
