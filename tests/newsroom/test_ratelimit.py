import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from newsroom import ratelimit
from tests.smtp import free_port


@pytest.mark.parametrize(
    ("rate", "parsed"), [("20/h", (20, 3600)), ("5/m", (5, 60)), ("1/10s", (1, 10))]
)
def test_parse_rate(rate, parsed):
    assert ratelimit.parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["", "x/h", "5/w", "0/h", "5"])
def test_a_bad_rate_is_refused_loudly(rate):
    with pytest.raises(ValueError, match="Bad rate"):
        ratelimit.parse_rate(rate)


def test_hits_over_the_limit_get_the_seconds_until_the_window_ends():
    assert ratelimit.hit("t", "a", rate="2/m", now=120.0) is None
    assert ratelimit.hit("t", "a", rate="2/m", now=130.0) is None
    assert ratelimit.hit("t", "a", rate="2/m", now=150.0) == 60
    assert ratelimit.hit("t", "a", rate="2/m", now=209.0) is not None
    assert ratelimit.hit("t", "a", rate="2/m", now=210.0) is None  # exactly when promised
    assert ratelimit.hit("t", "b", rate="2/m", now=150.0) is None  # another identity
    assert ratelimit.hit("t", "a", rate="2/m", now=330.0) is None  # after a quiet spell


def test_a_burst_cannot_double_up_across_a_window_boundary():
    assert ratelimit.hit("t", "a", rate="2/m", now=178.0) is None
    assert ratelimit.hit("t", "a", rate="2/m", now=179.0) is None
    retry_after = ratelimit.hit("t", "a", rate="2/m", now=181.0)
    assert retry_after is not None and 0 < retry_after <= 60
    assert ratelimit.hit("t", "a", rate="2/m", now=181.0 + retry_after) is None


def test_acquire_takes_a_slot_or_names_the_seconds_until_the_window_ends():
    assert ratelimit.acquire("t", "a", limit=2, now=10.25) == 0
    assert ratelimit.acquire("t", "a", limit=2, now=10.5) == 0
    assert ratelimit.acquire("t", "a", limit=2, now=10.75) == pytest.approx(0.25)
    assert ratelimit.acquire("t", "a", limit=2, now=11.0) == 0  # a new window


@pytest.mark.parametrize(
    "cache",
    [
        {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
        # A Redis that is gone: nothing listens on this port.
        {
            "BACKEND": "newsroom.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}",
        },
    ],
    ids=["dummy cache", "redis down"],
)
def test_acquire_says_when_the_cache_cannot_count(cache):
    with override_settings(CACHES={"default": cache}):
        assert ratelimit.acquire("t", "a", limit=1, now=10.0) is None


def test_the_decorator_answers_429_with_retry_after(settings):
    settings.RATELIMITS = {"test-scope": "1/h"}
    view = ratelimit.ratelimit("test-scope")(lambda request: HttpResponse("ok"))
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.1")
    assert view(request).status_code == 200
    response = view(request)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    other = RequestFactory().post("/", REMOTE_ADDR="198.51.100.2")
    assert view(other).status_code == 200


def test_behind_a_proxy_the_right_most_forwarded_address_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9", REMOTE_ADDR="10.0.0.1"
    )
    assert ratelimit.client_ip(request) == "203.0.113.9"


def test_search_lets_readers_through_when_the_cache_is_away(client, settings, db):
    # A Redis cache on a port nobody listens on: counting fails, reading goes on.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    for _ in range(3):
        assert client.get("/search/?q=anything").status_code == 200
