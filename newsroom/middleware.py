"""Site-wide middleware: Permissions-Policy, the staff idle timeout, and what readers
see while the database is unavailable."""

import logging
import sys
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader

from newsroom.context_processors import html_lang

logger = logging.getLogger(__name__)

# The idle clock is written to the session at most this often, so an editor's
# every click does not rewrite the session row.
ACTIVITY_GRANULARITY_SECONDS = 60
LAST_SEEN_KEY = "_staff_last_seen"


class PermissionsPolicyMiddleware:
    """Send settings.PERMISSIONS_POLICY on every response: no page needs the camera."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.value = ", ".join(
            f"{feature}=({' '.join(allow)})"
            for feature, allow in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.value and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.value
        return response


class StaffIdleTimeoutMiddleware:
    """Sign staff out after settings.STAFF_SESSION_IDLE_SECONDS without a request.

    A laptop left open in a café should not stay a way into the admin. The request
    carries on as anonymous, so the admin sends the editor to its login page, where
    a message says why.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Without a session cookie nobody is signed in: skip the session lookup.
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            self.check_idle(request)
        return self.get_response(request)

    def check_idle(self, request):
        user = request.user
        if not (user.is_authenticated and user.is_staff):
            return
        now = int(time.time())
        last_seen = request.session.get(LAST_SEEN_KEY)
        limit = settings.STAFF_SESSION_IDLE_SECONDS
        if last_seen is not None and now - last_seen > limit:
            logout(request)
            messages.info(
                request,
                f"You were signed out after {limit // 60} minutes without activity. "
                "Please sign in again.",
            )
            return
        if last_seen is None or now - last_seen >= ACTIVITY_GRANULARITY_SECONDS:
            request.session[LAST_SEEN_KEY] = now


def is_database_unavailable(exception):
    """True for the errors a lost or refused database connection raises."""
    return isinstance(exception, (OperationalError, InterfaceError))


def unavailable_response(request):
    """The friendly 503 page with Retry-After. The page cache, above, answers with its
    last copy of the page instead when it has one (newsroom/pagecache/middleware.py)."""
    # No request context: the context processors could need the database too.
    template = loader.get_template("503.html")
    response = HttpResponse(
        template.render({"site_name": settings.SITE_NAME, "html_lang": html_lang()}), status=503
    )
    response["Retry-After"] = str(settings.DATABASE_RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response.database_unavailable = True
    return response


class DatabaseUnavailableMiddleware:
    """Answer a stale copy or a 503 page, not a traceback, when the database is down.

    Django's health checks (CONN_HEALTH_CHECKS) replace the broken connection on the
    next request, so the site recovers by itself when the database comes back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_database_unavailable(exception):
            return None
        logger.error("database unavailable: %s %s", request.method, request.path, exc_info=True)
        return unavailable_response(request)


def server_error(request):
    """handler500: a database outage that surfaced outside a view (in a middleware)
    still gets the 503 page; everything else gets the ordinary 500 page."""
    if is_database_unavailable(sys.exception()):
        return unavailable_response(request)
    from newsroom.views import server_error as plain_server_error

    return plain_server_error(request)
