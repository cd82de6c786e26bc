"""Redis goes away mid-run (kill -9 of a private redis-server) and comes back empty:
readers keep getting pages, editors keep saving, and the page cache picks up again."""

import shutil
import subprocess
import time

import pytest
from django.test import Client

from newsroom.env import read_cache
from newsroom.pagecache import store
from tests.factories import ArticleFactory, StaffFactory
from tests.faults import free_port

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            if (
                subprocess.run(
                    ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
                ).stdout.strip()
                == "PONG"
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self):
        self.process.kill()  # SIGKILL: no goodbye to the clients
        self.process.wait()


@pytest.fixture
def redis(settings):
    server = PrivateRedis()
    server.start()
    settings.CACHES = {"default": read_cache({"REDIS_URL": f"redis://127.0.0.1:{server.port}/0"})}
    yield server
    if server.process.poll() is None:
        server.kill()


def test_readers_editors_and_the_cache_survive_redis_going_away(redis, settings, monkeypatch):
    from articles import services

    article = ArticleFactory(published=True, title="Before the outage")
    reader = Client()
    assert reader.get(article.get_absolute_url())["X-Page-Cache"] == "miss"
    assert reader.get(article.get_absolute_url())["X-Page-Cache"] == "hit"

    redis.kill()
    monkeypatch.setattr(store, "local_pages", store.LocalPages())  # another worker's memory
    for url in ("/", article.get_absolute_url(), "/feed/", "/search/?q=outage"):
        response = reader.get(url)
        assert response.status_code == 200, url

    article.title = "Edited during the outage"
    services.save_article(article=article, by=StaffFactory())  # the purge fails, the save stands
    article.refresh_from_db()
    assert article.title == "Edited during the outage"
    assert "Edited during the outage" in reader.get(article.get_absolute_url()).content.decode()
    health = reader.get("/healthz")
    assert health.status_code == 503 and health.json()["cache"] == "down"

    redis.start()  # back, and empty
    assert reader.get(article.get_absolute_url())["X-Page-Cache"] == "miss"
    hit = reader.get(article.get_absolute_url())
    assert hit["X-Page-Cache"] == "hit" and "Edited during the outage" in hit.content.decode()
