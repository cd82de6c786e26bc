"""Floods are answered 429 with Retry-After: signup per address and per IP, search."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_signup_flood_from_one_address_is_answered_429(client, settings):
    settings.RATELIMITS = {**settings.RATELIMITS, "newsletter-signup-ip": "5/m"}
    answers = [
        client.post("/newsletter/", {"email": f"flood{n}@example.com"}).status_code
        for n in range(6)
    ]
    assert answers[:5] == [200] * 5
    assert answers[5] == 429


def test_the_signup_limit_says_when_to_retry(client, settings):
    settings.RATELIMITS = {**settings.RATELIMITS, "newsletter-signup-ip": "1/h"}
    client.post("/newsletter/", {"email": "first@example.com"})
    response = client.post("/newsletter/", {"email": "second@example.com"})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600


def test_one_address_signed_up_again_and_again_is_limited(client, settings):
    settings.RATELIMITS = {**settings.RATELIMITS, "newsletter-signup-address": "2/h"}
    answers = [
        client.post("/newsletter/", {"email": "Same@Example.com"}, REMOTE_ADDR=f"198.51.100.{n}")
        for n in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]


def test_a_search_flood_from_one_address_is_answered_429(client, settings):
    """Search is the one public page the page cache cannot absorb (every query differs)."""
    settings.RATELIMITS = {**settings.RATELIMITS, "search-ip": "5/m"}
    answers = [client.get(f"/search/?q=word{n}") for n in range(6)]
    assert [a.status_code for a in answers[:5]] == [200] * 5
    assert answers[5].status_code == 429
    assert int(answers[5]["Retry-After"]) > 0
