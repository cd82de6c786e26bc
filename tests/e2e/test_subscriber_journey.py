"""The subscriber's journey, with a real SMTP server (aiosmtpd) receiving the mail:
footer signup → confirmation email → Confirm → a round-up is sent → its unsubscribe link
→ one click → unsubscribed. Each email is opened in the browser and its link clicked, as
in a mail client."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.support import html_part, links_in, text_part

pytestmark = pytest.mark.e2e

ADDRESS = "Reader.One@Example.com"


def open_email(page, message):
    """Show the HTML part of an email in the browser, as a mail client would."""
    page.goto("about:blank")
    page.set_content(html_part(message))


def test_subscriber_signs_up_confirms_receives_the_roundup_and_unsubscribes(
    new_page, newsroom, smtp_server, newsletter_editor
):
    from newsletter.models import Issue, IssueArticle, Subscriber

    reader = new_page()
    reader.goto(newsroom.article.get_absolute_url())
    footer_form = (
        reader.get_by_role("contentinfo")
        .locator("form")
        .filter(has=reader.get_by_role("button", name="Subscribe"))
    )
    footer_form.get_by_label(re.compile("email", re.I)).fill(ADDRESS)
    footer_form.get_by_role("button", name="Subscribe").click()
    expect(reader.get_by_role("heading", level=1)).to_contain_text(re.compile("inbox", re.I))
    subscriber = Subscriber.objects.get(email__iexact=ADDRESS)
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.consent_source.endswith(newsroom.article.get_absolute_url())

    confirmation = smtp_server.wait_for(to="reader.one@example.com", subject="confirm")
    confirm_links = [link for link in links_in(text_part(confirmation)) if "/confirm/" in link]
    assert confirm_links, text_part(confirmation)

    open_email(reader, confirmation)
    reader.get_by_role("link", name=re.compile("confirm", re.I)).first.click()
    expect(reader).to_have_url(re.compile(r"/newsletter/confirm/[^/]+/$"))
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING, "opening the link alone confirmed"

    reader.get_by_role("main").get_by_role("button", name="Confirm").click()
    expect(reader.get_by_role("heading", level=1)).to_contain_text(
        re.compile("confirmed|welcome|subscribed", re.I)
    )
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.confirmed_at is not None

    issue = Issue.objects.create(
        subject="The week in analysis", intro="Three stories we think you should read."
    )
    for position, story in enumerate(newsroom.stories[:3]):
        IssueArticle.objects.create(issue=issue, article=story, position=position)
    editor_page = new_page()
    newsletter_editor.log_in(editor_page)
    send_issue_in_admin(editor_page, issue)

    roundup = smtp_server.wait_for(to="reader.one@example.com", subject=issue.subject)
    assert roundup["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/newsletter/unsubscribe/" in roundup["List-Unsubscribe"]
    roundup_text = text_part(roundup)
    for story in newsroom.stories[:3]:
        assert story.title in roundup_text

    open_email(reader, roundup)
    expect(reader.get_by_role("link", name=newsroom.stories[0].title).first).to_be_visible()
    reader.get_by_role("link", name=re.compile("unsubscribe", re.I)).first.click()
    expect(reader).to_have_url(re.compile(r"/newsletter/unsubscribe/[^/]+/$"))
    reader.get_by_role("main").get_by_role("button", name="Unsubscribe").click()
    expect(reader.get_by_role("heading", level=1)).to_contain_text(re.compile("unsubscribed", re.I))
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


def send_issue_in_admin(page, issue):
    """A newsletter editor opens the issue in the admin, sends it and confirms."""
    page.goto(f"/admin/newsletter/issue/{issue.pk}/change/")
    page.get_by_role("link", name=re.compile("^send to all", re.I)).click()
    page.get_by_label(re.compile("yes, send this issue", re.I)).check()
    page.get_by_role("button", name=re.compile(r"^send to 1 subscriber$", re.I)).click()
    expect(page.locator(".messagelist .success")).to_contain_text(issue.subject)
