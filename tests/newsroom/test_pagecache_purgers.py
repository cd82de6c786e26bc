"""The HTTP purgers against local fake servers: real sockets, real HTTP."""

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from newsroom.pagecache import purgers


class FakeCache(ThreadingHTTPServer):
    """Records every request; answers with `status` and `body`."""

    daemon_threads = True

    def __init__(self, status=200, body=b"", delay=0.0):
        self.received = []
        self.status, self.body, self.delay = status, body, delay
        super().__init__(("127.0.0.1", 0), Recorder)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class Recorder(BaseHTTPRequestHandler):
    def _record(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.received.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": self.headers,  # case-insensitive, as in HTTP
                "body": self.rfile.read(length) if length else b"",
            }
        )
        time.sleep(self.server.delay)
        self.send_response(self.server.status)
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    do_PURGE = do_POST = _record

    def log_message(self, *args):
        pass


@pytest.fixture
def fake():
    servers = []

    def start(**kwargs):
        server = FakeCache(**kwargs)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def no_caches_configured(settings):
    settings.CACHE_PURGE_URLS = []
    settings.FASTLY_SERVICE_ID = settings.FASTLY_API_TOKEN = ""
    settings.CLOUDFLARE_ZONE_ID = settings.CLOUDFLARE_API_TOKEN = ""
    settings.CACHE_PURGE_REPEAT_SECONDS = 0  # the test below sends again; the others once


CLOUDFLARE_OK = json.dumps({"success": True, "errors": [], "result": {"id": "x"}}).encode()


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_every_varnish_server_gets_a_soft_purge_of_the_keys(fake, settings):
    first, second = fake(), fake()
    settings.CACHE_PURGE_URLS = [first.url, second.url + "/"]

    purgers.send(["a12", "s3", "list"])

    for server in (first, second):
        [request] = server.received
        assert (request["method"], request["path"]) == ("PURGE", "/")
        assert request["headers"]["xkey-purge"] == "a12 s3 list"


def test_a_purge_is_sent_again_after_a_worker_must_have_heard_of_it(fake, settings):
    varnish = fake()
    settings.CACHE_PURGE_URLS = [varnish.url]
    settings.CACHE_PURGE_REPEAT_SECONDS = 0.2

    purgers.send(["a12", "home"])

    assert len(varnish.received) == 1  # at once
    time.sleep(0.5)
    assert [request["headers"]["xkey-purge"] for request in varnish.received] == ["a12 home"] * 2


def test_keys_are_sent_once_each(fake, settings):
    varnish = fake()
    settings.CACHE_PURGE_URLS = [varnish.url]

    purgers.send(["a12", "list", "a12", "", "list"])

    assert varnish.received[0]["headers"]["xkey-purge"] == "a12 list"


def test_fastly_gets_the_documented_batch_purge_with_its_token(fake, settings):
    fastly = fake(body=b'{"a1": "108-1391560174-974124"}')
    settings.FASTLY_API_URL = fastly.url
    settings.FASTLY_SERVICE_ID, settings.FASTLY_API_TOKEN = "SU1Z0isxPaozGVKXdv0eY", "tok3n"

    purgers.send(["a1", "home"])

    [request] = fastly.received
    assert (request["method"], request["path"]) == ("POST", "/service/SU1Z0isxPaozGVKXdv0eY/purge")
    assert request["headers"]["Fastly-Key"] == "tok3n"
    assert request["headers"]["Surrogate-Key"] == "a1 home"
    assert request["headers"]["Fastly-Soft-Purge"] == "1"


def test_fastly_purges_at_most_256_keys_a_request(fake, settings):
    fastly = fake()
    settings.FASTLY_API_URL = fastly.url
    settings.FASTLY_SERVICE_ID, settings.FASTLY_API_TOKEN = "svc", "tok3n"
    keys = [f"a{n}" for n in range(600)]

    purgers.send(keys)

    sent = [request["headers"]["Surrogate-Key"].split(" ") for request in fastly.received]
    assert sorted(len(batch) for batch in sent) == [88, 256, 256]
    assert sorted(key for batch in sent for key in batch) == sorted(keys)


def test_cloudflare_gets_the_tags_as_json_with_a_bearer_token(fake, settings):
    cloudflare = fake(body=CLOUDFLARE_OK)
    settings.CLOUDFLARE_API_URL = cloudflare.url + "/client/v4"
    settings.CLOUDFLARE_ZONE_ID, settings.CLOUDFLARE_API_TOKEN = "023e105f4ecef8ad", "cf-token"

    purgers.send(["a1", "list:s3"])

    [request] = cloudflare.received
    assert request["method"] == "POST"
    assert request["path"] == "/client/v4/zones/023e105f4ecef8ad/purge_cache"
    assert request["headers"]["Authorization"] == "Bearer cf-token"
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == {"tags": ["a1", "list:s3"]}


def test_cloudflare_purges_at_most_30_tags_a_request(fake, settings):
    cloudflare = fake(body=CLOUDFLARE_OK)
    settings.CLOUDFLARE_API_URL = cloudflare.url
    settings.CLOUDFLARE_ZONE_ID, settings.CLOUDFLARE_API_TOKEN = "zone", "cf-token"
    keys = [f"t{n}" for n in range(65)]

    purgers.send(keys)

    sent = [json.loads(request["body"])["tags"] for request in cloudflare.received]
    assert sorted(len(batch) for batch in sent) == [5, 30, 30]
    assert sorted(key for batch in sent for key in batch) == sorted(keys)


def test_all_three_kinds_of_cache_are_purged_together(fake, settings):
    varnish, fastly, cloudflare = fake(), fake(), fake(body=CLOUDFLARE_OK)
    settings.CACHE_PURGE_URLS = [varnish.url]
    settings.FASTLY_API_URL, settings.CLOUDFLARE_API_URL = fastly.url, cloudflare.url
    settings.FASTLY_SERVICE_ID, settings.FASTLY_API_TOKEN = "svc", "tok3n"
    settings.CLOUDFLARE_ZONE_ID, settings.CLOUDFLARE_API_TOKEN = "zone", "cf-token"

    purgers.send(["notes"])

    assert [len(server.received) for server in (varnish, fastly, cloudflare)] == [1, 1, 1]


def test_a_server_that_is_down_does_not_raise_and_is_logged(fake, settings, caplog):
    alive = fake()
    settings.CACHE_PURGE_URLS = [f"http://127.0.0.1:{closed_port()}", alive.url]

    with caplog.at_level(logging.WARNING, logger="newsroom.pagecache.purgers"):
        purgers.send(["a12"])

    assert len(alive.received) == 1, "the other server is still purged"
    [record] = caplog.records
    assert "Cache purge failed: Varnish PURGE" in record.getMessage()


def test_a_refused_purge_is_logged(fake, settings, caplog):
    fastly = fake(status=401, body=b'{"msg": "Provided credentials are missing or invalid"}')
    settings.FASTLY_API_URL = fastly.url
    settings.FASTLY_SERVICE_ID, settings.FASTLY_API_TOKEN = "svc", "wrong"

    with caplog.at_level(logging.WARNING, logger="newsroom.pagecache.purgers"):
        purgers.send(["a12"])

    assert "Fastly" in caplog.text and "401" in caplog.text


def test_cloudflare_saying_no_in_its_body_is_logged(fake, settings, caplog):
    cloudflare = fake(body=json.dumps({"success": False, "errors": [{"code": 1134}]}).encode())
    settings.CLOUDFLARE_API_URL = cloudflare.url
    settings.CLOUDFLARE_ZONE_ID, settings.CLOUDFLARE_API_TOKEN = "zone", "cf-token"

    with caplog.at_level(logging.WARNING, logger="newsroom.pagecache.purgers"):
        purgers.send(["a12"])

    assert "Cloudflare" in caplog.text and "1134" in caplog.text


def test_a_cache_that_hangs_costs_the_timeout_not_more(fake, settings, caplog):
    slow, other = fake(delay=3), fake(delay=3)
    settings.CACHE_PURGE_URLS = [slow.url, other.url]
    settings.CACHE_PURGE_TIMEOUT_SECONDS = 0.5

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="newsroom.pagecache.purgers"):
        purgers.send(["a12"])

    assert time.monotonic() - started < 1.5, "the two purges wait side by side"
    assert caplog.text.count("Cache purge failed") == 2


def test_nothing_configured_sends_nothing(monkeypatch):
    monkeypatch.setattr(purgers, "deliver", lambda *purge: pytest.fail(f"sent {purge}"))

    purgers.send(["a12", "all"])


def test_no_keys_send_nothing(fake, settings):
    varnish = fake()
    settings.CACHE_PURGE_URLS = [varnish.url]

    purgers.send([])

    assert varnish.received == []
