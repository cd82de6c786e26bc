"""Purging the HTTP caches in front of the site by dependency key.

`send(keys)` tells every configured cache to drop the responses tagged with any of the
keys: each Varnish server of CACHE_PURGE_URLS (vmod xkey), Fastly (Surrogate-Key) and
Cloudflare (Cache-Tag). It runs after the commit of an editor's change, so it never
raises: a cache that cannot be reached is logged and the save stands. The requests go
out in parallel with a short timeout, so a dead cache costs the editor at most that.

README, "Varnish and CDNs", describes the headers and the setup of each.
"""

import json
import logging
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import batched

from django.conf import settings

logger = logging.getLogger(__name__)

# Keys per request. Fastly's batch purge takes up to 256 surrogate keys. Cloudflare's API
# reference allows 30 tags per call (its newer limits table says 100): 30 is safe on
# every plan. Varnish has no such limit; 256 keeps the header well inside its 8 KiB.
VARNISH_BATCH = 256
FASTLY_BATCH = 256
CLOUDFLARE_BATCH = 30


@dataclass(frozen=True)
class Purge:
    """One HTTP request to one cache."""

    target: str
    method: str
    url: str
    headers: dict = field(default_factory=dict)
    body: bytes | None = None


def send(keys):
    """Purge `keys` from every configured HTTP cache; log failures, never raise."""
    try:
        keys = [key for key in dict.fromkeys(keys) if key]
        purges = requests_for(keys)
    except Exception:
        logger.exception("Cache purge of %s could not be prepared", keys)
        return
    if not purges:
        return
    if len(purges) == 1:
        deliver(purges[0])
        return
    with ThreadPoolExecutor(max_workers=min(len(purges), 8)) as pool:
        list(pool.map(deliver, purges))


def requests_for(keys):
    """The requests that purge `keys` everywhere settings name a cache."""
    if not keys:
        return []
    purges = []
    for base in settings.CACHE_PURGE_URLS:
        for batch in batched(keys, VARNISH_BATCH, strict=False):
            # A soft purge: the objects stay in grace, so the next reader gets the old
            # copy at once while Varnish fetches the new one.
            purges.append(
                Purge("Varnish", "PURGE", f"{base.rstrip('/')}/", {"xkey-purge": " ".join(batch)})
            )
    if settings.FASTLY_SERVICE_ID and settings.FASTLY_API_TOKEN:
        url = f"{settings.FASTLY_API_URL.rstrip('/')}/service/{settings.FASTLY_SERVICE_ID}/purge"
        for batch in batched(keys, FASTLY_BATCH, strict=False):
            headers = {
                "Fastly-Key": settings.FASTLY_API_TOKEN,
                "Surrogate-Key": " ".join(batch),
                "Fastly-Soft-Purge": "1",
                "Accept": "application/json",
            }
            purges.append(Purge("Fastly", "POST", url, headers, b""))
    if settings.CLOUDFLARE_ZONE_ID and settings.CLOUDFLARE_API_TOKEN:
        base = settings.CLOUDFLARE_API_URL.rstrip("/")
        url = f"{base}/zones/{settings.CLOUDFLARE_ZONE_ID}/purge_cache"
        for batch in batched(keys, CLOUDFLARE_BATCH, strict=False):
            headers = {
                "Authorization": f"Bearer {settings.CLOUDFLARE_API_TOKEN}",
                "Content-Type": "application/json",
            }
            body = json.dumps({"tags": list(batch)}).encode()
            purges.append(Purge("Cloudflare", "POST", url, headers, body))
    return purges


def deliver(purge):
    request = urllib.request.Request(
        purge.url, data=purge.body, headers=purge.headers, method=purge.method
    )
    try:
        with urllib.request.urlopen(
            request, timeout=settings.CACHE_PURGE_TIMEOUT_SECONDS
        ) as response:
            answer = response.read(64 * 1024)
    except Exception as error:
        # HTTPError (a refusal: wrong token, not in Varnish's ACL), URLError (down,
        # unknown host), a timeout: the purge is lost, the pages expire by s-maxage.
        logger.warning(
            "Cache purge failed: %s %s %s: %s", purge.target, purge.method, purge.url, error
        )
        return False
    if purge.target == "Cloudflare" and not _cloudflare_succeeded(answer):
        logger.warning("Cache purge failed: Cloudflare %s answered %r", purge.url, answer[:500])
        return False
    return True


def _cloudflare_succeeded(answer):
    try:
        return json.loads(answer).get("success") is True
    except (ValueError, AttributeError):
        return False
