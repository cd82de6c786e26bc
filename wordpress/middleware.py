"""Old WordPress addresses answer 301 to the article they became.

Placed above the page cache and independent of it: `/?p=ID` is answered before the
cache could serve the home page for it, and any other old path only once the site
found nothing there (a 404), like django.contrib.redirects' fallback middleware. An
ordinary request costs no query: the home page without a WordPress query string is
let through untouched, and only a 404 pays one indexed lookup.
"""

import logging

from django.db import DatabaseError
from django.http import Http404, HttpResponsePermanentRedirect
from django.urls import get_resolver

from wordpress import redirects

logger = logging.getLogger(__name__)
READ_METHODS = ("GET", "HEAD")
HOME_PATHS = ("/", "/index.php")


# A date permalink resolves to the article page but may 404 on a zone-shifted date.
WORDPRESS_LIKE_VIEWS = {"articles:article-detail"}


def _may_be_old_address(request):
    """A path one of the site's own pages answered for (an unknown section, author,
    tag…) is not an old WordPress address: it costs no lookup."""
    match = getattr(request, "resolver_match", None)
    return match is None or match.view_name in WORDPRESS_LIKE_VIEWS


class LegacyRedirectMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method in READ_METHODS
            and request.META.get("QUERY_STRING")
            and request.path_info in HOME_PATHS
            and (found := redirects.legacy_query(request.GET)) is not None
        ):
            try:
                target = redirects.target_for_id(*found)
            except DatabaseError:
                # The database is down: the stack below answers with its 503 page.
                logger.warning("legacy redirect lookup failed", exc_info=True)
                return self.get_response(request)
            if target:
                return HttpResponsePermanentRedirect(target)
            return self._not_found(request)
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.method in READ_METHODS
            and _may_be_old_address(request)
        ):
            try:
                target = redirects.target_for_path(request.path_info)
            except DatabaseError:
                logger.warning("legacy redirect lookup failed", exc_info=True)
                return response
            if target and target != request.path_info:
                return HttpResponsePermanentRedirect(target)
        return response

    def _not_found(self, request):
        handler = get_resolver().resolve_error_handler(404)
        return handler(request, Http404("No imported WordPress post has this ID."))
