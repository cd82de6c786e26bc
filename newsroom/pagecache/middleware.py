"""Serve and keep the pages of `cached_page` views, above the rest of the stack.

Place it after SecurityMiddleware (an http request to an https site is still
redirected) and WhiteNoise, before GZipMiddleware: a hit skips sessions, CSRF,
authentication and gzip, and is kept already compressed for readers who take gzip.
`X-Page-Cache` (hit, miss, stale) is diagnostic only.
"""

import logging
import time

from django.core.exceptions import DisallowedHost
from django.urls import Resolver404, resolve
from django.utils.cache import get_conditional_response

from newsroom.pagecache import schedule, store
from newsroom.pagecache.keys import is_anonymous_read, page_key

logger = logging.getLogger(__name__)


def declared_query(request):
    """The query parameters of the `cached_page` view at this path, or None."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    return getattr(match.func, "page_cache_query", None)


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = declared_query(request) if is_anonymous_read(request) else None
        if query is None:
            return self.get_response(request)
        try:
            key = page_key(request, query)
        except DisallowedHost:
            return self.get_response(request)  # the stack below answers 400
        try:
            entry, fresh, marks, due = store.lookup(key)
        except Exception:
            # The cache is away: render below as usual.
            logger.warning("page cache unavailable", exc_info=True)
            entry, fresh, marks = None, False, {}
        if fresh and schedule.follows(entry.keys) and schedule.is_passed(due):
            try:
                schedule.catch_up(due)
                entry, fresh, marks, due = store.lookup(key)
            except Exception:
                # The database is away: render below (which serves this copy if it fails).
                logger.warning("page cache: schedule unavailable", exc_info=True)
                fresh = False
        if fresh:
            return self.answer(request, entry, "hit")

        request.page_cache_started = time.time()
        response = self.get_response(request)
        described = getattr(response, "page_cache", None)
        if described is not None and store.may_share(response):
            try:
                store.keep(key, described.with_response(response))
            except Exception:
                logger.warning("could not keep %s", request.path, exc_info=True)
            response["X-Page-Cache"] = "miss"
            return get_conditional_response(request, etag=response.get("ETag"), response=response)
        if (
            getattr(response, "database_unavailable", False)
            and entry is not None
            and entry.may_serve_stale(marks)
        ):
            stale = self.answer(request, entry, "stale")
            # Shared caches must not keep a copy served in an emergency.
            stale["Cache-Control"] = "no-cache, max-age=0"
            return stale
        return response

    def answer(self, request, entry, state):
        response = entry.response()
        response["X-Page-Cache"] = state
        # So an HTTP cache in front counts s-maxage from the render, not from now.
        response["Age"] = str(max(0, int(time.time() - entry.started)))
        return get_conditional_response(
            request,
            etag=response.get("ETag"),
            last_modified=int(entry.started),
            response=response,
        )
