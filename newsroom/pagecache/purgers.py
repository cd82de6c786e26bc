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
import threading
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
    """Purge `keys` from every configured HTTP cache; log failures, never raise.

    And once more CACHE_PURGE_REPEAT_SECONDS later: a cache that fetched a page again at
    once may have got the old copy, from a worker that had not heard of the purge yet
    (they ask every PAGE_CACHE_CHECK_SECONDS) or from a render begun before it, and would
    keep it for its s-maxage (minutes) where it should have kept it for none."""
    purges = list(requests_for([key for key in dict.fromkeys(keys) if key]))
    deliver_all(purges)
    if purges and settings.CACHE_PURGE_REPEAT_SECONDS > 0:
        threading.Timer(settings.CACHE_PURGE_REPEAT_SECONDS, deliver_all, [purges]).start()


def deliver_all(purges):
    with ThreadPoolExecutor(max_workers=8) as pool:  # a thread per request, up to 8
        for purge in purges:
            pool.submit(deliver, *purge)


def requests_for(keys):
    """(cache, method, url, headers, body) of each request that purges `keys` from a
    cache settings name."""
    for base in settings.CACHE_PURGE_URLS:
        # A soft purge: the objects stay in grace, so the next reader gets the old copy
        # at once while Varnish fetches the new one.
        url = f"{base.rstrip('/')}/"
        for batch in batched(keys, VARNISH_BATCH, strict=False):
            yield "Varnish", "PURGE", url, {"xkey-purge": " ".join(batch)}, None
    if settings.FASTLY_SERVICE_ID and settings.FASTLY_API_TOKEN:
        url = f"{settings.FASTLY_API_URL.rstrip('/')}/service/{settings.FASTLY_SERVICE_ID}/purge"
        auth = {"Fastly-Key": settings.FASTLY_API_TOKEN, "Accept": "application/json"}
        for batch in batched(keys, FASTLY_BATCH, strict=False):
            soft = {"Surrogate-Key": " ".join(batch), "Fastly-Soft-Purge": "1"}
            yield "Fastly", "POST", url, auth | soft, b""
    if settings.CLOUDFLARE_ZONE_ID and settings.CLOUDFLARE_API_TOKEN:
        base = settings.CLOUDFLARE_API_URL.rstrip("/")
        url = f"{base}/zones/{settings.CLOUDFLARE_ZONE_ID}/purge_cache"
        token = f"Bearer {settings.CLOUDFLARE_API_TOKEN}"
        headers = {"Authorization": token, "Content-Type": "application/json"}
        for batch in batched(keys, CLOUDFLARE_BATCH, strict=False):
            yield "Cloudflare", "POST", url, headers, json.dumps({"tags": batch}).encode()


def deliver(target, method, url, headers, body):
    try:
        # A URL urllib cannot read raises here too: a misconfigured cache is only logged.
        request = Request(url, body, headers, method=method)
        with urlopen(request, timeout=settings.CACHE_PURGE_TIMEOUT_SECONDS) as response:
            answer = response.read(64 * 1024)
        if target == "Cloudflare" and json.loads(answer).get("success") is not True:
            raise ValueError(f"answered {answer[:500]!r}")  # its body says whether it purged
    except Exception as error:
        # HTTPError (a refusal: wrong token, not in Varnish's ACL), URLError (down,
        # unknown host), a timeout, Cloudflare's "success": false: the purge is lost,
        # the pages expire by s-maxage.
        logger.warning("Cache purge failed: %s %s %s: %s", target, method, url, error)
