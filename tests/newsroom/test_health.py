from unittest import mock

import pytest
from django.core.cache.backends.redis import RedisCache
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def test_health_is_ok_when_database_and_cache_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_health_names_the_database_when_it_is_down(client):
    with mock.patch("newsroom.health.connection.cursor", side_effect=OperationalError("gone")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "down", "cache": "ok"}


def test_health_names_the_cache_when_it_is_down(client):
    with mock.patch("newsroom.health.cache.set", side_effect=ConnectionError("refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["cache"] == "down"


def test_health_with_a_redis_cache_that_does_not_answer(client):
    unreachable = RedisCache("redis://127.0.0.1:1/0", {})
    with mock.patch("newsroom.health.cache", unreachable):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["cache"] == "down"


def test_a_cache_turned_off_by_configuration_is_healthy(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["cache"] == "off"
