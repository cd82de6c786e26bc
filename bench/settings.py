"""Settings for the benchmarks: the production settings plus the reference URL.

Everything else (middleware, cache, database, templates) is newsroom.settings, read from
the same environment, so a page measured here is the page production serves.
"""

import os

from newsroom.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# The benchmarks' own commands (seed_bulk); the product never installs this app.
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405

# The cold mode (issue 15): BENCH_CACHE=dummy turns every cache off, so each request
# renders its page from the database, as after a purge or for the long tail of an archive.
if os.environ.get("BENCH_CACHE") == "dummy":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    PAGE_CACHE_LOCAL_BYTES = 0
