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
from concurrent.futures import ThreadPoolExecutor
from itertools import batched
from urllib.request import Request, urlopen

from django.conf import settings

logger = logging.getLogger(__name__)

# Keys per request. Fastly's batch purge takes up to 256 surrogate keys. Cloudflare's API
# reference allows 30 tags per call (its newer limits table says 100): 30 is safe on
# every plan. Varnish has no such limit; 256 keeps the header well inside its 8 KiB.
VARNISH_BATCH = 256
FASTLY_BATCH = 256
CLOUDFLARE_BATCH = 30


def send(keys):
    """Purge `keys` from every configured HTTP cache; log failures, never raise."""
    try:
        purges = list(requests_for([key for key in dict.fromkeys(keys) if key]))
    except Exception:
        logger.exception("Cache purge of %s could not be prepared", keys)
        return
    with ThreadPoolExecutor(max_workers=8) as pool:  # starts a thread per purge, up to 8
        list(pool.map(deliver, purges))


def requests_for(keys):
    """(the cache, the request that purges `keys` from it) for each cache settings name."""
    for base in settings.CACHE_PURGE_URLS:
        # A soft purge: the objects stay in grace, so the next reader gets the old copy
        # at once while Varnish fetches the new one.
        url = f"{base.rstrip('/')}/"
        for batch in batched(keys, VARNISH_BATCH, strict=False):
            yield "Varnish", Request(url, headers={"xkey-purge": " ".join(batch)}, method="PURGE")
    if settings.FASTLY_SERVICE_ID and settings.FASTLY_API_TOKEN:
        url = f"{settings.FASTLY_API_URL.rstrip('/')}/service/{settings.FASTLY_SERVICE_ID}/purge"
        for batch in batched(keys, FASTLY_BATCH, strict=False):
            headers = {
                "Fastly-Key": settings.FASTLY_API_TOKEN,
                "Surrogate-Key": " ".join(batch),
                "Fastly-Soft-Purge": "1",
                "Accept": "application/json",
            }
            yield "Fastly", Request(url, b"", headers, method="POST")
    if settings.CLOUDFLARE_ZONE_ID and settings.CLOUDFLARE_API_TOKEN:
        base = settings.CLOUDFLARE_API_URL.rstrip("/")
        url = f"{base}/zones/{settings.CLOUDFLARE_ZONE_ID}/purge_cache"
        headers = {
            "Authorization": f"Bearer {settings.CLOUDFLARE_API_TOKEN}",
            "Content-Type": "application/json",
        }
        for batch in batched(keys, CLOUDFLARE_BATCH, strict=False):
            body = json.dumps({"tags": batch}).encode()
            yield "Cloudflare", Request(url, body, headers, method="POST")


def deliver(purge):
    target, request = purge
    try:
        with urlopen(request, timeout=settings.CACHE_PURGE_TIMEOUT_SECONDS) as response:
            answer = response.read(64 * 1024)
        if target == "Cloudflare" and json.loads(answer).get("success") is not True:
            # Cloudflare says in the body whether it purged.
            raise ValueError(f"answered {answer[:500]!r}")
    except Exception as error:
        # HTTPError (a refusal: wrong token, not in Varnish's ACL), URLError (down,
        # unknown host), a timeout, Cloudflare's "success": false: the purge is lost,
        # the pages expire by s-maxage.
        method, url = request.get_method(), request.full_url
        logger.warning("Cache purge failed: %s %s %s: %s", target, method, url, error)
