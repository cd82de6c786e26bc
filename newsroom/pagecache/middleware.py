"""Serve and keep the pages of `cached_page` views, above the rest of the stack.

Place it after SecurityMiddleware (an http request to an https site is still
redirected) and WhiteNoise, before GZipMiddleware: a hit skips sessions, CSRF,
authentication and gzip, and is kept already compressed for readers who take gzip.
`X-Page-Cache` (hit, miss, stale) is diagnostic only.
"""

import hashlib
import logging
import time

from django.core.exceptions import DisallowedHost
from django.http import HttpResponse
from django.middleware.gzip import re_accepts_gzip
from django.urls import Resolver404, resolve
from django.utils.cache import get_conditional_response

from newsroom.pagecache import is_anonymous_read, store

logger = logging.getLogger(__name__)


def page_key(request):
    """The key of a `cached_page` view's page: scheme, host, path, only the query
    parameters the view declares, and whether the reader takes gzip. None for any other
    path, and for a host ALLOWED_HOSTS refuses (the stack below answers 400)."""
    try:
        query = resolve(request.path_info).func.page_cache_query
        host = request.get_host()
    except (Resolver404, AttributeError, DisallowedHost):
        return None
    params = "&".join(f"{name}={value}" for name in query for value in request.GET.getlist(name))
    gzip = re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")) is not None
    address = f"{request.scheme}://{host}{request.path}?{params}#{gzip}"
    return hashlib.sha256(address.encode()).hexdigest()


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = page_key(request) if is_anonymous_read(request) else None
        if key is None:
            return self.get_response(request)
        entry = None
        try:
            entry, fresh, due = store.lookup(key)
            if fresh and store.follows(entry.keys) and store.is_passed(due):
                # Purge what came due, then look again. Should that fail (the database
                # is away), the view renders below, and this copy serves if that fails.
                store.catch_up(due)
                entry, fresh, due = store.lookup(key)
        except Exception:
            # The cache (or, catching up, the database) is away: render below as usual.
            logger.warning("page cache unavailable", exc_info=True)
            fresh = False
        if fresh:
            return self.answer(request, entry, {"X-Page-Cache": "hit"})

        request.page_cache_started, seen = time.time(), store.local_pages.seen
        response = self.get_response(request)
        if hasattr(response, "page_cache") and store.may_share(response):
            try:
                store.keep(key, response, seen)
            except Exception:
                logger.warning("could not keep %s", request.path, exc_info=True)
            response["X-Page-Cache"] = "miss"
            return get_conditional_response(request, etag=response.get("ETag"), response=response)
        if entry is not None and getattr(response, "database_unavailable", False):
            # Shared caches must not keep a copy served in an emergency.
            stale = {"X-Page-Cache": "stale", "Cache-Control": "no-cache, max-age=0"}
            return self.answer(request, entry, stale)
        return response

    def answer(self, request, entry, headers):
        response = HttpResponse(entry.content, headers={**entry.headers, **headers})
        # So an HTTP cache in front counts s-maxage from the render, not from now.
        response["Age"] = str(max(0, int(time.time() - entry.started)))
        return get_conditional_response(
            request, etag=response.get("ETag"), last_modified=int(entry.started), response=response
        )
