import pytest
from django.core import mail
from django.test import Client

from newsletter.models import Subscriber
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


def _signup(client, email, **extra):
    return client.post("/newsletter/", {"email": email, "source": "/some/page/", **extra})


def test_signup_page_shows_the_form_without_a_csrf_token(client):
    response = client.get("/newsletter/")
    assert response.status_code == 200
    assert 'name="email"' in response.text and 'name="website"' in response.text
    assert "csrfmiddlewaretoken" not in response.text


def test_new_address_is_pending_and_gets_a_confirmation(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _signup(client, "new@example.com")
    assert response.status_code == 200
    assert "Check your inbox" in response.text
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.consent_source == "http://testserver/some/page/"
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    assert "/newsletter/confirm/" in mail.outbox[0].body


def test_known_and_unknown_addresses_get_the_same_answer(
    client, django_capture_on_commit_callbacks
):
    SubscriberFactory(email="known@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        known = _signup(client, "known@example.com")
        unknown = _signup(client, "unknown@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert [m.to for m in mail.outbox] == [["unknown@example.com"]]


def test_an_active_address_gets_no_email_at_all(client, django_capture_on_commit_callbacks):
    SubscriberFactory(email="Ann@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        _signup(client, "ann@EXAMPLE.com")
    assert mail.outbox == []
    assert Subscriber.objects.count() == 1


@pytest.mark.parametrize("status", ["pending", "unsubscribed", "bounced"])
def test_a_returning_address_gets_a_fresh_confirmation_and_keeps_its_status(
    client, django_capture_on_commit_callbacks, status
):
    SubscriberFactory(email="back@example.com", status=status)
    with django_capture_on_commit_callbacks(execute=True):
        _signup(client, "back@example.com")
    assert len(mail.outbox) == 1
    assert Subscriber.objects.get().status == status


def test_the_address_is_trimmed_and_its_domain_lower_cased(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _signup(client, "  Mixed.Case@Example.COM  ")
    assert Subscriber.objects.get().email == "Mixed.Case@example.com"


def test_an_invalid_address_is_refused_with_a_message(client):
    response = _signup(client, "not-an-address")
    assert response.status_code == 400
    assert "valid email" in response.text
    assert not Subscriber.objects.exists()


def test_the_honeypot_gets_the_neutral_answer_and_stores_nothing(client):
    response = _signup(client, "bot@example.com", website="http://spam.example")
    assert response.status_code == 200
    assert "Check your inbox" in response.text
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


def test_signup_needs_no_csrf_token_from_cached_pages():
    response = _signup(Client(enforce_csrf_checks=True), "cached@example.com")
    assert response.status_code == 200
    assert Subscriber.objects.filter(email="cached@example.com").exists()


def test_a_cross_site_post_is_refused(client):
    response = client.post(
        "/newsletter/", {"email": "victim@example.com"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 403
    assert not Subscriber.objects.exists()


def test_a_post_from_a_foreign_origin_is_refused(client):
    response = client.post(
        "/newsletter/", {"email": "victim@example.com"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403


def test_a_same_origin_post_is_accepted(client):
    response = client.post(
        "/newsletter/",
        {"email": "me@example.com"},
        headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
    )
    assert response.status_code == 200


def test_a_foreign_consent_source_is_replaced_by_the_signup_page(client):
    _signup(client, "me@example.com", source="https://evil.example/")
    assert Subscriber.objects.get().consent_source == "http://testserver/newsletter/"


def test_too_many_signups_for_one_address_answer_429(client, settings):
    settings.RATELIMITS = {**settings.RATELIMITS, "newsletter-signup-address": "2/h"}
    for _ in range(2):
        assert _signup(client, "same@example.com").status_code == 200
    response = _signup(client, "SAME@example.com")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many attempts" in response.text


def test_too_many_signups_from_one_ip_answer_429(client, settings):
    settings.RATELIMITS = {**settings.RATELIMITS, "newsletter-signup-ip": "3/m"}
    for n in range(3):
        assert _signup(client, f"a{n}@example.com").status_code == 200
    response = _signup(client, "a9@example.com")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert not Subscriber.objects.filter(email="a9@example.com").exists()


def test_the_signup_answer_is_never_cached(client):
    response = _signup(client, "me@example.com")
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_the_footer_form_posts_to_the_signup_page_with_the_consent_sentence(client):
    html = client.get("/newsletter/confirm/garbage/").text
    assert 'action="/newsletter/"' in html
    assert "By subscribing you agree" in html


def test_a_unicode_local_part_is_accepted_and_stored_in_nfc(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _signup(client, "zoe\u0308@Example.com")  # e + combining diaeresis
    assert "Check your inbox" in response.text
    assert Subscriber.objects.get().email == "zoë@example.com"
    assert [m.to for m in mail.outbox] == [["zoë@example.com"]]


@pytest.mark.parametrize(
    "address", ["zo ë@example.com", "zo\u200bë@example.com", f"{'ë' * 33}@example.com"]
)
def test_broken_unicode_addresses_are_still_refused(client, address):
    response = _signup(client, address)
    assert "Enter a valid email address" in response.text
    assert not Subscriber.objects.exists()


def test_the_signup_box_lets_browsers_send_unicode_addresses(client):
    # type="email" makes browsers refuse "zoë@…" before it reaches us.
    response = client.get("/newsletter/")
    assert 'type="email"' not in response.text
    assert 'inputmode="email"' in response.text
