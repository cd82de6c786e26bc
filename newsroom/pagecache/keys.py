"""Which requests the page cache may answer, and under which key."""

import hashlib

from django.conf import settings
from django.middleware.gzip import re_accepts_gzip


def is_anonymous_read(request):
    """A GET or HEAD from someone without a session: what a shared copy may answer.

    Staff and people with a session (signed in, or mid-signup) always get fresh pages.
    """
    return request.method in ("GET", "HEAD") and settings.SESSION_COOKIE_NAME not in request.COOKIES


def page_key(request, query):
    """Scheme, host (validated: DisallowedHost propagates), path, the declared query
    parameters only, and whether the reader takes gzip."""
    params = "&".join(f"{name}={value}" for name in query for value in request.GET.getlist(name))
    encoding = (
        "gzip" if re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")) else ""
    )
    address = f"{request.scheme}://{request.get_host()}{request.path}?{params}#{encoding}"
    return hashlib.sha256(address.encode()).hexdigest()
