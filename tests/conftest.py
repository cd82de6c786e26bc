import contextlib
import threading

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client, testcases

from newsroom.pagecache import store


class OneRequestAtATimeLiveServerThread(testcases.LiveServerThread):
    """The live server for in-memory SQLite, whose one connection its request threads
    share: two requests at once (Varnish fetching pages in the background after a purge)
    break each other's transactions ("cannot start a transaction within a transaction").
    Each request runs alone; PostgreSQL gives each thread its own connection."""

    lock = threading.Lock()

    def _create_server(self, connections_override=None):
        server = super()._create_server(connections_override=connections_override)
        set_app = server.set_app

        def set_app_one_at_a_time(app):
            def one_at_a_time(environ, start_response):
                with self.lock:
                    response = app(environ, start_response)
                    try:
                        return [b"".join(response)]
                    finally:
                        if hasattr(response, "close"):
                            response.close()

            set_app(one_at_a_time)

        server.set_app = set_app_one_at_a_time
        return server


if connection.vendor == "sqlite":
    # pytest-django's live_server reads the class from here when it starts one.
    testcases.LiveServerThread = OneRequestAtATimeLiveServerThread


@pytest.fixture(autouse=True)
def isolated_media_and_cache(settings, tmp_path, monkeypatch):
    """Each test writes media to its own folder and starts with an empty cache."""
    settings.MEDIA_ROOT = tmp_path / "media"
    # One test client renders right after a purge: no allowance for other hosts' clocks.
    settings.PAGE_CACHE_CLOCK_SKEW_SECONDS = 0
    # Tests purge behind the worker's back (a bare cache write): it asks every time.
    settings.PAGE_CACHE_CHECK_SECONDS = 0
    for cache in caches.all():
        cache.clear()
    # A worker's memory of its own: no pages, and no last read of what was purged.
    monkeypatch.setattr(store, "local_pages", store.LocalPages())
    store.forget_head()
    yield
    for cache in caches.all():
        with contextlib.suppress(Exception):  # a test may have taken its cache away
            cache.clear()


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    """Background tasks run in-process during tests unless a test asks otherwise."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "email"],
        }
    }


@pytest.fixture
def sent_purges(monkeypatch):
    """The keys each page-cache purge sends to the HTTP caches in front, in order."""
    sent = []
    monkeypatch.setattr("newsroom.pagecache.purgers.send", lambda keys: sent.append(set(keys)))
    return sent


@pytest.fixture
def reader_with_session(settings):
    """A reader whose browser holds a session cookie: every request goes past the page
    cache to the view. A client of its own, so a test can compare it with `client`."""
    reader = Client()
    reader.cookies[settings.SESSION_COOKIE_NAME] = "reader-session"
    return reader


@pytest.fixture
def kept_pages(monkeypatch):
    """The keys of the pages the page cache keeps during the test, in order."""
    kept = []
    keep = store.keep
    monkeypatch.setattr(store, "keep", lambda key, *args: (kept.append(key), keep(key, *args)))
    return kept
