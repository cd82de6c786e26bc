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
what came due, purges those keys, and finds the next moment (`schedule.py`). Pages
with a list key are also fresh only until that moment, so an HTTP cache in front
(s-maxage) follows too.

A kept page outlives its freshness (STALE_PAGE_SECONDS) so it can be served while the
database is down, unless it shows an article withdrawn since (`purge(withdrawn=…)`).
"""

import math
import time
from functools import wraps

from django.conf import settings
from django.utils.cache import patch_cache_control

from newsroom.pagecache import schedule, store
from newsroom.pagecache.commit import purge_on_commit
from newsroom.pagecache.keys import is_anonymous_read
from newsroom.pagecache.store import is_shown, purge

__all__ = [
    "cached_page", "depends_on", "is_anonymous_read", "is_shown", "purge", "purge_on_commit",
]  # fmt: skip

BROWSER_MAX_AGE = 60
STALE_WHILE_REVALIDATE = 60
ALWAYS = ("all", "nav")


def depends_on(request, *keys):
    """Say that the page being rendered for `request` shows these objects."""
    found = getattr(request, "page_cache_keys", None)
    if found is None:
        found = request.page_cache_keys = set(ALWAYS)
    found.update(keys)


def cached_page(view, *, query=(), keys=()):
    """Let PageCacheMiddleware keep `view`'s pages; `query` names the only parameters
    it reads (anything else, such as ?utm_source=, is the plain page's), `keys` what
    every page of it shows."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        started = getattr(request, "page_cache_started", None) or time.time()
        depends_on(request, *keys)
        response = view(request, *args, **kwargs)
        if callable(getattr(response, "render", None)):
            response = response.render()
        user = getattr(request, "user", None)
        if not is_anonymous_read(request) or (user is not None and user.is_authenticated):
            patch_cache_control(response, private=True, no_cache=True)
        elif store.may_share(response):
            _mark_shareable(request, response, started)
        return response

    wrapper.page_cache_query = tuple(query)
    return wrapper


def _mark_shareable(request, response, started):
    keys = getattr(request, "page_cache_keys", None) or set(ALWAYS)
    fresh_until = started + settings.CACHE_PAGE_SECONDS
    if schedule.follows(keys):
        fresh_until = min(fresh_until, schedule.next_moment())
    spoken = " ".join(sorted(keys))
    response["xkey"] = response["Surrogate-Key"] = spoken
    response["Cache-Tag"] = spoken.replace(" ", ",")
    patch_cache_control(
        response,
        public=True,
        max_age=BROWSER_MAX_AGE,
        s_maxage=max(0, math.ceil(fresh_until - time.time())),
        stale_while_revalidate=STALE_WHILE_REVALIDATE,
    )
    store.add_validators(response, started)
    response.page_cache = store.Entry.describe(started, fresh_until, keys)
