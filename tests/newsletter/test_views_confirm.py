import time

import pytest
from django.core import mail
from django.test import Client

from newsletter.models import Subscriber
from newsletter.tokens import make_confirm_token
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


def _url(subscriber):
    return f"/newsletter/confirm/{make_confirm_token(subscriber)}/"


def _old_token(subscriber, monkeypatch, *, days):
    then = time.time() - days * 86400
    monkeypatch.setattr("django.core.signing.time.time", lambda: then)
    token = make_confirm_token(subscriber)
    monkeypatch.undo()
    return token


def test_opening_the_link_shows_a_confirm_button_and_confirms_nobody(client):
    subscriber = SubscriberFactory(status="pending", confirmed_at=None)
    response = client.get(_url(subscriber))
    assert response.status_code == 200
    assert '<button type="submit">Confirm</button>' in response.text
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.confirmed_at is None


def test_pressing_confirm_activates_and_records_time_and_ip(client):
    subscriber = SubscriberFactory(status="pending", confirmed_at=None)
    response = client.post(_url(subscriber), REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200
    assert "You are subscribed" in response.text
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.confirmed_at is not None
    assert subscriber.confirmed_ip == "203.0.113.7"


def test_confirming_keeps_csrf_protection():
    subscriber = SubscriberFactory(status="pending", confirmed_at=None)
    response = Client(enforce_csrf_checks=True).post(_url(subscriber))
    assert response.status_code == 403
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING


def test_an_unsubscribed_reader_can_confirm_again(client):
    subscriber = SubscriberFactory(status="unsubscribed")
    client.post(_url(subscriber))
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE


def test_an_active_subscriber_is_told_so(client):
    response = client.get(_url(SubscriberFactory()))
    assert "already subscribed" in response.text


def test_an_expired_link_offers_a_new_one(client, monkeypatch, settings):
    subscriber = SubscriberFactory(status="pending", confirmed_at=None)
    token = _old_token(subscriber, monkeypatch, days=settings.NEWSLETTER_CONFIRM_DAYS + 1)
    response = client.post(f"/newsletter/confirm/{token}/")
    assert response.status_code == 200
    assert "expired" in response.text and "Send me a new link" in response.text
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_asking_for_a_new_link_sends_one(client, monkeypatch, django_capture_on_commit_callbacks):
    subscriber = SubscriberFactory(status="pending", confirmed_at=None)
    token = _old_token(subscriber, monkeypatch, days=30)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/newsletter/confirm/{token}/", {"action": "resend"})
    assert "Check your inbox" in response.text
    assert len(mail.outbox) == 1
    new_path = mail.outbox[0].body.split("http://testserver")[1].split()[0]
    client.post(new_path)
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "eyJzIjoxfQ:1abc:def",
        ".eJyrVipWslIqLkksSS1WMjJQqgUAPEoF5A:bad:sig",
        "%00",
        "a" * 500,
    ],
)
def test_a_tampered_link_gets_a_page_offering_a_new_one_never_a_500(client, token):
    SubscriberFactory()
    response = client.post(f"/newsletter/confirm/{token}/")
    assert response.status_code == 400
    assert "This link does not work" in response.text
    assert 'name="email"' in response.text


def test_a_link_for_an_erased_address_does_not_work(client):
    subscriber = SubscriberFactory(status="pending", confirmed_at=None)
    url = _url(subscriber)
    subscriber.delete()
    assert client.get(url).status_code == 400


def test_an_unsubscribe_token_cannot_confirm(client):
    from newsletter.tokens import make_unsubscribe_token

    subscriber = SubscriberFactory(status="pending", confirmed_at=None)
    response = client.post(f"/newsletter/confirm/{make_unsubscribe_token(subscriber)}/")
    assert response.status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING


def test_confirming_again_clears_the_old_unsubscribe_time(client):
    subscriber = SubscriberFactory(status="unsubscribed", unsubscribed_at="2026-01-05T10:00Z")
    client.post(_url(subscriber))
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.unsubscribed_at is None
