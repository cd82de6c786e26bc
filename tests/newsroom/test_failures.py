"""The database goes away: readers get a cached copy or a friendly 503 page, never a
traceback; /healthz names the database; the site recovers by itself.

The in-process tests make the connection refuse (both backends). The PostgreSQL test
runs the real site under gunicorn behind a TCP proxy and cuts the proxy: the shared
PostgreSQL server is never stopped.
"""

import json
import time
import urllib.error
import urllib.request
from unittest import mock
from urllib.parse import quote

import pytest
from django.db import OperationalError, connection
from django.test import Client

from newsroom import pagecache
from newsroom.middleware import server_error
from tests.factories import ArticleFactory, SectionFactory
from tests.security.live_site import collectstatic, gunicorn, production_like_environment
from tests.security.tcp_proxy import TcpProxy

SITE_PORT = 8121
PROXY_PORT = 8123


def database_refuses():
    return mock.patch.object(
        connection, "cursor", side_effect=OperationalError("connection refused")
    )


@pytest.fixture
def article(db):
    return ArticleFactory(published=True)


def test_a_page_never_cached_answers_the_friendly_503(client, article):
    with database_refuses():
        response = client.get(article.section.get_absolute_url())
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    assert "We will be right back" in text
    assert "Traceback" not in text and "OperationalError" not in text


def test_the_503_page_keeps_the_security_headers(client, article):
    with database_refuses():
        response = client.get("/")
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_page_cached_before_the_outage_is_still_served(client, article):
    assert client.get("/").status_code == 200
    with database_refuses():
        response = client.get("/")
    assert response.status_code == 200
    assert article.title in response.content.decode()


def test_a_stale_copy_is_served_when_the_page_cache_has_moved_on(client, article):
    fresh = client.get(article.get_absolute_url())
    assert fresh["X-Page-Cache"] == "miss"
    pagecache.purge({"nav"})  # a change elsewhere: the kept copy is no longer fresh
    with database_refuses():
        response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert response["X-Page-Cache"] == "stale"
    assert response.content == fresh.content
    assert "no-cache" in response["Cache-Control"]


def test_no_stale_copy_shows_an_article_withdrawn_since(client, article):
    client.get("/")
    pagecache.purge({f"a{article.pk}"}, withdrawn={f"a{article.pk}"})  # unpublished
    with database_refuses():
        response = client.get("/")
    assert response.status_code == 503


def test_no_stale_copy_of_a_page_that_was_never_rendered(client, article):
    with database_refuses():
        response = client.get("/section/no-such-section/")
    assert response.status_code == 503


def test_no_stale_copy_for_a_reader_with_a_session(article):
    reader = Client(raise_request_exception=False)
    reader.get("/")
    pagecache.purge({"nav"})
    reader.cookies["sessionid"] = "abc"
    with database_refuses():
        response = reader.get("/")
    assert response.status_code == 503


def test_a_signup_during_the_outage_is_told_to_retry(article):
    reader = Client(raise_request_exception=False)
    with database_refuses():
        response = reader.post("/newsletter/", {"email": "reader@example.com"})
    assert response.status_code == 503
    assert response["Retry-After"] == "30"


def test_an_outage_met_in_a_middleware_still_gets_the_503_page(article):
    # A session cookie makes the middleware load the session from the database
    # before any view runs.
    reader = Client(raise_request_exception=False)
    reader.cookies["sessionid"] = "a-session-that-needs-the-database"
    with database_refuses():
        response = reader.get("/admin/")
    assert response.status_code == 503
    assert "We will be right back" in response.content.decode()


def test_the_error_handler_keeps_the_500_page_for_other_errors(rf):
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = server_error(rf.get("/"))
    assert response.status_code == 500


def test_the_error_handler_answers_503_for_a_lost_database(rf):
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = server_error(rf.get("/"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"


def test_health_names_the_database_while_it_is_down(client, article):
    with database_refuses():
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


# -- the real thing: gunicorn, PostgreSQL behind a proxy that is cut and restored --


def fetch(url, *, timeout=10):
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    return status, headers, body.decode(), time.monotonic() - started


@pytest.fixture
def postgres_behind_a_proxy(transactional_db, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("cutting a database connection needs PostgreSQL (DATABASE_URL=postgres://…)")
    db = connection.settings_dict
    with TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432), port=PROXY_PORT) as proxy:
        login = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
        url = f"postgres://{login}@127.0.0.1:{proxy.port}/{db['NAME']}"
        environ = production_like_environment(
            port=SITE_PORT,
            database_url=url,
            static_root=tmp_path / "static",
            media_root=tmp_path / "media",
            # Pages leave the page cache after a second, so the stale copy is tested.
            CACHE_PAGE_SECONDS=1,
        )
        collectstatic(environ)
        with gunicorn(environ, port=SITE_PORT, log_path=tmp_path / "gunicorn.log") as base_url:
            yield proxy, base_url


def test_the_site_survives_a_database_restart(postgres_behind_a_proxy):
    proxy, base = postgres_behind_a_proxy
    article = ArticleFactory(published=True)
    never_cached = SectionFactory().get_absolute_url()
    assert fetch(base + "/")[0] == 200
    assert fetch(base + article.get_absolute_url())[0] == 200
    time.sleep(1.2)  # the page cache lets go; only the stale copies remain

    proxy.cut()
    status, headers, body, took = fetch(base + "/")
    assert (status, headers["X-Page-Cache"]) == (200, "stale")
    assert article.title in body and took < 10

    status, headers, body, took = fetch(base + never_cached)
    assert status == 503 and took < 10
    assert headers["Retry-After"] == "30"
    assert "We will be right back" in body and "Traceback" not in body

    status, _, body, _ = fetch(base + "/healthz")
    assert status == 503
    assert json.loads(body)["database"] == "down"

    proxy.restore()
    back_at = time.monotonic()
    while fetch(base + never_cached)[0] != 200:
        assert time.monotonic() - back_at < 5, "the site did not recover without a restart"
        time.sleep(0.1)
    status, _, body, _ = fetch(base + "/healthz")
    assert (status, json.loads(body)["database"]) == (200, "ok")
