"""Acceptance: the whole subscriber journey against a real SMTP server (aiosmtpd)."""

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from newsletter import services
from newsletter.models import Subscriber
from tests.factories import ArticleFactory, ImageFactory, IssueFactory

pytestmark = pytest.mark.django_db


def _path(url):
    return urlsplit(url).path


def _body(message, subtype):
    return message.get_body(preferencelist=(subtype,)).get_content()


def test_signup_confirm_roundup_one_click_unsubscribe(
    smtp_sink, django_capture_on_commit_callbacks
):
    client = Client(enforce_csrf_checks=True)

    # Sign up: the confirmation mail arrives at the real SMTP server.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/newsletter/", {"email": "  Reader@Example.ORG ", "source": "/"})
    assert response.status_code == 200
    assert "Check your inbox" in response.text
    assert smtp_sink.recipients() == ["Reader@example.org"]
    confirmation = smtp_sink.messages()[0]
    confirm_url = re.search(
        r"http://testserver/newsletter/confirm/[^/\s]+/", _body(confirmation, "plain")
    )[0]

    # Opening the link alone confirms nobody; its button does.
    page = client.get(_path(confirm_url))
    assert page.status_code == 200
    assert "<button" in page.text and "Confirm" in page.text
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    response = client.post(_path(confirm_url), {"csrfmiddlewaretoken": token})
    assert response.status_code == 200
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.confirmed_at is not None
    assert subscriber.consent_source == "http://testserver/"

    # The round-up goes out and arrives with both parts and the list headers.
    article = ArticleFactory(published=True, title="Parliament votes", lead_image=ImageFactory())
    with django_capture_on_commit_callbacks(execute=True):
        assert services.start_sending(issue=IssueFactory(articles=[article]))
    roundup = smtp_sink.messages()[-1]
    assert roundup["To"] == "Reader@example.org"
    assert roundup["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert roundup["List-Id"] and roundup["Message-ID"] and roundup["Date"]
    assert "Parliament votes" in _body(roundup, "plain")
    assert "Parliament votes" in _body(roundup, "html")
    https_link, mailto = re.findall(r"<([^>]+)>", roundup["List-Unsubscribe"])
    assert https_link.startswith("http://testserver/newsletter/unsubscribe/")
    assert mailto.startswith("mailto:")

    # One-click: the mail client POSTs with no cookie and no CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        _path(https_link),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED

    # The next issue does not reach the address.
    received = len(smtp_sink.envelopes)
    with django_capture_on_commit_callbacks(execute=True):
        services.start_sending(issue=IssueFactory(articles=[article]))
    assert len(smtp_sink.envelopes) == received
