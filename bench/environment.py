"""The production-like environment every page and admin benchmark runs with."""

import os
import secrets
import sys
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def configure(*, port):
    """Environment for this process and the gunicorn it starts; then django.setup().

    DATABASE_URL, REDIS_URL, MEDIA_ROOT and STATIC_ROOT may be given; DEBUG is off and
    SITE_URL is plain http on loopback (an https:// address would redirect).
    """
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/newsroom_bench")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("STATIC_ROOT", str(Path(tempfile.gettempdir()) / "newsroom-bench-static"))
    os.environ["DEBUG"] = "0"
    os.environ["SITE_URL"] = f"http://127.0.0.1:{port}"
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # wrk is one client asking for the search page thousands of times a second: a
    # reader's rate limit would answer it 429 and measure nothing.
    os.environ["RATELIMIT_SEARCH_IP"] = "100000000/m"
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def collectstatic():
    """Production settings serve hashed files from a manifest: build it first."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
