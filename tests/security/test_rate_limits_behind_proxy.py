"""Behind the TLS proxy, limits count readers, not the proxy (issue 13, row 3).

The site runs as production runs it: every connection comes from the proxy on
127.0.0.1, which appends the reader's address to X-Forwarded-For (TRUSTED_PROXY_COUNT=1).
One client_ip() serves axes, the rate limits and the newsletter's records.
"""

import json
import urllib.error
import urllib.request

import pytest

from newsletter.models import Subscriber
from newsletter.tokens import make_confirm_token
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

PROXY = "127.0.0.1"


@pytest.fixture(autouse=True)
def behind_the_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATELIMITS = {
        **settings.RATELIMITS,
        "search-ip": "5/m",
        "newsletter-signup-ip": "2/h",
    }


def via_proxy(reader, forged=None):
    forwarded = f"{forged}, {reader}" if forged else reader
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded}


def test_many_readers_searching_once_are_not_limited_together(client):
    answers = [client.get(f"/search/?q=w{n}", **via_proxy(f"198.51.100.{n}")) for n in range(60)]
    assert {answer.status_code for answer in answers} == {200}


def test_one_reader_searching_too_often_is_limited_alone(client):
    flood = [client.get(f"/search/?q=w{n}", **via_proxy("198.51.100.7")) for n in range(6)]
    assert [answer.status_code for answer in flood] == [200] * 5 + [429]
    assert client.get("/search/?q=other", **via_proxy("198.51.100.8")).status_code == 200


def test_a_forged_forwarded_header_does_not_escape_the_limit(client):
    flood = [
        client.get(f"/search/?q=w{n}", **via_proxy("198.51.100.7", forged=f"10.0.0.{n}"))
        for n in range(6)
    ]
    assert flood[-1].status_code == 429


def test_signup_limits_count_each_reader(client):
    for n in range(5):
        response = client.post(
            "/newsletter/",
            {"email": f"reader{n}@example.com"},
            headers={"Sec-Fetch-Site": "same-origin"},
            **via_proxy(f"203.0.113.{n}"),
        )
        assert response.status_code == 200
    assert Subscriber.objects.count() == 5


def test_the_confirmation_records_the_readers_address_not_the_proxys(client):
    subscriber = SubscriberFactory(status="pending", confirmed_at=None)
    client.post(
        f"/newsletter/confirm/{make_confirm_token(subscriber)}/", **via_proxy("203.0.113.9")
    )
    subscriber.refresh_from_db()
    assert subscriber.confirmed_ip == "203.0.113.9"


@pytest.mark.django_db(transaction=True)
def test_through_a_live_server_readers_are_told_apart(live_server, settings):
    """Real HTTP: the connection's address is the loopback 'proxy'; the readers differ
    only in the X-Forwarded-For the proxy appended."""

    def search(reader, number):
        # Each query new, so no answer comes from the page cache.
        request = urllib.request.Request(
            f"{live_server.url}/search/?q={reader}-{number}", headers={"X-Forwarded-For": reader}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    readers = [search(f"198.51.100.{n}", n) for n in range(12)]
    assert set(readers) == {200}, json.dumps(readers)
    one = [search("192.0.2.1", n) for n in range(6)]
    assert one == [200] * 5 + [429]
