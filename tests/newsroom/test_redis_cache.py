"""The Redis cache backend against the real Redis on 127.0.0.1."""

import uuid

import pytest
import redis

from newsroom.redis_cache import RedisCache

REDIS = "redis://127.0.0.1:6379/9"


@pytest.fixture
def redis_cache():
    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return RedisCache(REDIS, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})


def test_it_stores_and_reads_like_djangos(redis_cache):
    redis_cache.set("page", b"<p>kept</p>", timeout=30)
    redis_cache.set_many({"a": 1, "b": (1, "two")}, timeout=30)
    assert redis_cache.get("page") == b"<p>kept</p>"
    assert redis_cache.get_many(["a", "b", "missing"]) == {"a": 1, "b": (1, "two")}
    assert redis_cache.incr("a") == 2
    redis_cache.delete_many(["page", "a", "b"])
    assert redis_cache.get("page") is None


def test_operations_share_one_client_per_connection_pool(redis_cache):
    redis_cache.get("x")
    client = redis_cache._cache.get_client()
    redis_cache.set("x", 1, timeout=30)
    assert redis_cache._cache.get_client(write=True) is client
    redis_cache.delete("x")
