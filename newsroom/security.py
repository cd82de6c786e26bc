"""Site-wide security rules: the admin door, client addresses, lockouts.

Imported by settings.py (read_admin_path), so module-level imports stay light; the
Django parts load inside the functions that need them.
"""

import ipaddress

from newsroom.env import ConfigError

DEFAULT_ADMIN_PATH = "admin/"


def read_admin_path(environ):
    """ADMIN_PATH, normalised to "segment/…/" (no leading slash, one trailing slash).

    Moving the admin off /admin/ takes it out of reach of the crawlers that try
    passwords there; the login limits protect it wherever it lives.
    """
    raw = environ.get("ADMIN_PATH", "").strip()
    if not raw:
        return DEFAULT_ADMIN_PATH
    segments = [segment for segment in raw.split("/") if segment]
    if not segments or any(
        segment in (".", "..") or not all(ch.isalnum() or ch in "-_." for ch in segment)
        for segment in segments
    ):
        raise ConfigError(
            f"ADMIN_PATH must be a URL path such as 'admin/' or 'desk/' (got {raw!r})"
        )
    return "/".join(segments) + "/"


def client_ip(request):
    """The reader's address, as seen by the last proxy we trust.

    Behind a proxy (TRUSTED_PROXY_COUNT > 0) REMOTE_ADDR is the proxy, so the address
    comes from X-Forwarded-For, counted from the right: entries further left were
    written by the client and can be forged. Used by the login limits.
    """
    from django.conf import settings

    remote = request.META.get("REMOTE_ADDR", "")
    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            remote = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        # Not an address (a test client, a misconfigured proxy): unknown, not a guess.
        return None


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out login sees: what happened, when to retry, who can help."""
    from axes.helpers import get_cool_off
    from django.contrib import admin
    from django.shortcuts import render

    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else None
    context = {
        **admin.site.each_context(request),
        "title": "Too many failed sign-in attempts",
        "minutes": -(-seconds // 60) if seconds else None,
    }
    response = render(request, "security/locked_out.html", context, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    return response
