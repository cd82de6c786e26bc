"""Old WordPress addresses answer 301 to the article they became.

Placed above the page cache and independent of it: `/?p=ID` is answered before the
cache could serve the home page for it, and any other old path only once the site
found nothing there (a 404), like django.contrib.redirects' fallback middleware. An
ordinary request costs no query: the home page without a WordPress query string is
let through untouched, and only a 404 pays one indexed lookup.
"""

from django.http import HttpResponsePermanentRedirect
from django.urls import get_resolver

from wordpress import redirects

READ_METHODS = ("GET", "HEAD")


class LegacyRedirectMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in READ_METHODS and request.META.get("QUERY_STRING"):
            found = redirects.legacy_query(request.GET)
            if found is not None and request.path_info in ("/", "/index.php"):
                target = redirects.target_for_id(*found)
                if target:
                    return HttpResponsePermanentRedirect(target)
                return self._not_found(request)
        response = self.get_response(request)
        if response.status_code == 404 and request.method in READ_METHODS:
            target = redirects.target_for_path(request.path_info)
            if target and target != request.path_info:
                return HttpResponsePermanentRedirect(target)
        return response

    def _not_found(self, request):
        from django.http import Http404

        handler = get_resolver().resolve_error_handler(404)
        return handler(request, Http404("No imported WordPress post has this ID."))
