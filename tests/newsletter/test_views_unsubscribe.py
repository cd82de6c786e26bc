import pytest
from django.core import mail
from django.test import Client

from newsletter.models import Delivery, Subscriber
from newsletter.tokens import make_confirm_token, make_unsubscribe_token
from tests.factories import IssueFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def _url(subscriber):
    return f"/newsletter/unsubscribe/{make_unsubscribe_token(subscriber)}/"


def test_opening_the_link_shows_one_button_and_changes_nothing(client):
    subscriber = SubscriberFactory()
    response = client.get(_url(subscriber))
    assert response.status_code == 200
    assert ">Unsubscribe</button>" in response.text
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE


def test_one_click_post_without_csrf_token_unsubscribes_at_once():
    subscriber = SubscriberFactory()
    response = Client(enforce_csrf_checks=True).post(
        _url(subscriber),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "You are unsubscribed" in response.text
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.unsubscribed_at is not None


def test_unsubscribing_twice_is_harmless(client):
    subscriber = SubscriberFactory()
    client.post(_url(subscriber))
    first = Subscriber.objects.get().unsubscribed_at
    assert client.post(_url(subscriber)).status_code == 200
    assert Subscriber.objects.get().unsubscribed_at == first


def test_delete_my_data_erases_the_address_and_its_history(client):
    subscriber = SubscriberFactory()
    Delivery.objects.create(issue=IssueFactory(), subscriber=subscriber)
    response = client.post(_url(subscriber), {"action": "erase"})
    assert "Your data is deleted" in response.text
    assert not Subscriber.objects.exists()
    assert not Delivery.objects.exists()


def test_resubscribing_starts_double_opt_in_again(client, django_capture_on_commit_callbacks):
    subscriber = SubscriberFactory(status="unsubscribed")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(subscriber), {"action": "resubscribe"})
    assert "Check your inbox" in response.text
    assert len(mail.outbox) == 1
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_link_unsubscribes_nobody(client, method):
    subscriber = SubscriberFactory()
    response = getattr(client, method)(_url(subscriber)[:-5] + "xxxx/")
    assert response.status_code == 400
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE


def test_a_confirmation_token_cannot_unsubscribe(client):
    subscriber = SubscriberFactory()
    response = client.post(f"/newsletter/unsubscribe/{make_confirm_token(subscriber)}/")
    assert response.status_code == 400
    assert Subscriber.objects.get().status == Subscriber.Status.ACTIVE
