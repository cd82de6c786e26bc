"""The health check load balancers and uptime monitors poll."""

import logging
import uuid

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("health check: database did not answer")
        return False


def cache_state():
    """ "ok", "down", or "off" for Django's dummy cache: off by configuration is fine."""
    if isinstance(caches[DEFAULT_CACHE_ALIAS], DummyCache):
        return "off"
    return "ok" if cache_ok() else "down"


def cache_ok():
    # A fresh key each time, so a stale value can never pass for a working cache.
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "ok", timeout=5)
        answered = cache.get(key) == "ok"
        cache.delete(key)
        return answered
    except Exception:
        logger.exception("health check: cache did not answer")
        return False


@never_cache
@require_GET
def healthz(request):
    parts = {
        "database": "ok" if database_ok() else "down",
        "cache": cache_state(),
    }
    healthy = all(state in ("ok", "off") for state in parts.values())
    return JsonResponse(
        {"status": "ok" if healthy else "down", **parts}, status=200 if healthy else 503
    )
