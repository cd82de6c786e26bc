"""Settings for the benchmarks: the production settings plus the reference URL.

Everything else (middleware, cache, database, templates) is newsroom.settings, read from
the same environment, so a page measured here is the page production serves.
"""

from newsroom.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# The benchmarks' own commands (seed_bulk); the product never installs this app.
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
