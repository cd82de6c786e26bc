import email
import email.policy
import re

import pytest

from newsletter.emails import render_roundup
from newsletter.sending import PreparedRoundup
from newsletter.tokens import read_unsubscribe_token
from tests.factories import (
    ArticleFactory,
    ImageFactory,
    IssueFactory,
    RenditionFactory,
    SubscriberFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue():
    image = ImageFactory(alt_text="Voters queue outside", credit="Jane Doe/Agency", source="")
    RenditionFactory(image=image, width=640, height=400)
    article = ArticleFactory(
        published=True, title="Votes & vetoes", dek="What the count means.", lead_image=image
    )
    return IssueFactory(intro="Dear reader,\n\nA big week.", articles=[article])


def _parsed(prepared, subscriber):
    raw = prepared.message_for(subscriber).message().as_bytes()
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_html_has_inlined_css_and_a_fluid_layout_of_600px_at_most(issue):
    _, html = render_roundup(issue, unsubscribe_url="http://testserver/u/")
    assert "<style" not in html
    assert "max-width: 600px" in html and "width: 100%" in html
    # Nothing is fixed at 600 px (it was cut off at 390 px), but Outlook's ghost table.
    assert not re.search(r"(?<!max-)width:\s*600px", html)
    assert 'style="' in html and "font-family" in html


def test_images_have_width_height_alt_and_credit(issue):
    _, html = render_roundup(issue, unsubscribe_url="http://testserver/u/")
    assert 'width="560" height="350"' in html
    assert 'alt="Voters queue outside"' in html
    assert "Jane Doe/Agency" in html
    assert 'src="http://testserver/media/renditions/' in html


def test_every_link_is_absolute(issue):
    text, html = render_roundup(issue, unsubscribe_url="http://testserver/u/")
    assert 'href="/' not in html and 'src="/' not in html
    assert issue.items.get().article.get_absolute_url() in text
    assert "http://testserver" + issue.items.get().article.get_absolute_url() in html


def test_the_text_part_has_every_article_and_the_footer(issue, settings):
    text, _ = render_roundup(issue, unsubscribe_url="http://testserver/u/")
    assert "Votes & vetoes" in text  # no HTML escaping in plain text
    assert "What the count means." in text
    assert settings.SITE_ADDRESS in text
    assert "http://testserver/u/" in text


def test_the_footer_names_the_publication_and_its_address(issue, settings):
    _, html = render_roundup(issue, unsubscribe_url="http://testserver/u/")
    assert settings.SITE_NAME in html and settings.SITE_ADDRESS in html


def test_an_unpublished_article_drops_out_of_the_email(issue):
    article = issue.items.get().article
    article.status = "draft"
    article.save()
    text, _ = render_roundup(issue, unsubscribe_url="http://testserver/u/")
    assert article.title not in text


def test_each_copy_carries_its_own_address_token_and_message_id(issue):
    prepared = PreparedRoundup.for_issue(issue)
    ann, bob = (
        SubscriberFactory(email="ann@example.com"),
        SubscriberFactory(email="bob@example.com"),
    )
    first, second = _parsed(prepared, ann), _parsed(prepared, bob)
    assert first["To"] == "ann@example.com" and second["To"] == "bob@example.com"
    assert first["Message-ID"] != second["Message-ID"]
    assert first["List-Unsubscribe"] != second["List-Unsubscribe"]
    token = first["List-Unsubscribe"].split("/newsletter/unsubscribe/")[1].split("/")[0]
    assert read_unsubscribe_token(token) == ann
    assert f"/newsletter/unsubscribe/{token}/" in first.get_body(("plain",)).get_content()
    assert f"/newsletter/unsubscribe/{token}/" in first.get_body(("html",)).get_content()


def test_a_copy_has_the_list_headers_and_both_parts(issue):
    message = _parsed(PreparedRoundup.for_issue(issue), SubscriberFactory())
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"].endswith(">")
    assert message["Date"] and message["From"] and message["Subject"] == issue.subject
    assert "mailto:" in message["List-Unsubscribe"]
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]


def test_the_unsubscribe_header_carries_its_links_unencoded(issue):
    """RFC 2369: mail clients read the URIs from the raw header; encoded words hide them."""
    raw = PreparedRoundup.for_issue(issue).message_for(SubscriberFactory()).message().as_bytes()
    lines = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    at = next(i for i, row in enumerate(lines) if row.startswith(b"List-Unsubscribe: "))
    first, second = lines[at], lines[at + 1]
    assert first.startswith(b"List-Unsubscribe: <http://testserver/newsletter/unsubscribe/")
    assert first.endswith(b"/>,") and second.startswith(b" <mailto:") and second.endswith(b">")
    assert b"=?" not in first + second
    assert all(len(row) <= 998 for row in lines)


def test_non_ascii_subjects_and_text_survive_encoding():
    article = ArticleFactory(published=True, title="Zürich — «Ça va» 東京")
    issue = IssueFactory(subject="Café politics: Zürich", articles=[article])
    message = _parsed(PreparedRoundup.for_issue(issue), SubscriberFactory())
    assert message["Subject"] == "Café politics: Zürich"
    assert "Zürich — «Ça va» 東京" in message.get_body(("plain",)).get_content()


@pytest.fixture
def five_story_issue():
    articles = []
    for n in range(5):
        image = ImageFactory(alt_text=f"Picture {n}", credit=f"Photographer {n}/Agency")
        RenditionFactory(image=image, width=400, height=250)
        RenditionFactory(image=image, width=800, height=500)
        articles.append(
            ArticleFactory(published=True, title=f"Story {n}", dek=f"Dek {n}.", lead_image=image)
        )
    return IssueFactory(intro="Dear reader,\n\nA big week.", articles=articles)


def test_the_lead_story_is_large_and_the_rest_compact_with_small_pictures(five_story_issue):
    _text, html = render_roundup(five_story_issue, unsubscribe_url="http://testserver/u/x/")
    assert html.count("<h2") == 1 and html.count("<h3") == 4
    lead = html.index("<h2")
    assert "Story 0" in html[lead : html.index("</h2>")]
    assert 'width="560" height="350"' in html  # the lead's picture, full width
    assert html.count('width="96" height="60"') == 4  # the others' thumbnails
    assert "/renditions/" in html
    for n in range(5):  # every picture keeps its credit
        assert f"Photographer {n}/Agency" in html
    assert "Also this week" in html


def test_the_editors_intro_opens_the_email_and_its_preview_line(five_story_issue):
    text, html = render_roundup(five_story_issue, unsubscribe_url="http://testserver/u/x/")
    assert "From the editor" in html
    assert html.index("Dear reader") < html.index("Story 0")
    assert "display: none" in html.split("Dear reader")[0]  # the hidden preview line
    assert text.index("FROM THE EDITOR") < text.index("Dear reader") < text.index("Story 0")
    assert text.index("Story 0") < text.index("ALSO THIS WEEK") < text.index("Story 1")
