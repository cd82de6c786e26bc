"""Hostile input through every text field a person can reach.

Editors type into the admin (section, author, image, article, tags); readers type into
search and the signup form; staff type into admin search boxes. For each payload in
tests/security/payloads.py: no answer is a 500, and nothing executable reaches any
page, feed, JSON-LD block or email.
"""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core import mail
from django.utils import timezone

from articles import services
from articles.models import Article, Author, Image, Section
from newsletter.emails import render_roundup
from newsletter.models import Issue, IssueArticle
from tests.factories import AuthorFactory, ImageFactory, SectionFactory, StaffFactory, image_file
from tests.rendered_form import submit
from tests.security.payloads import (
    EMAILS,
    PAYLOADS,
    TEMPLATE_PRODUCT,
    find_executable,
    for_the_wire,
    json_ld_blocks,
    payload_id,
)

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
FEED_HTML_ELEMENTS = {
    "description",
    "summary",
    "content",
    "{http://www.w3.org/2005/Atom}summary",
    "{http://www.w3.org/2005/Atom}content",
    "{http://purl.org/rss/1.0/modules/content/}encoded",
}


def as_a_browser_sends(payload):
    """Browsers replace a lone surrogate with U+FFFD when they encode a form."""
    return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in payload)


def assert_safe_html(response, where):
    assert response.status_code != 500, where
    body = response.content.decode("utf-8", "replace")
    problems = find_executable(body)
    assert not problems, (where, problems)
    json_ld_blocks(body)  # every block still parses


def assert_safe_feed(response, where):
    assert response.status_code != 500, where
    if response.status_code != 200:
        return
    root = ET.fromstring(response.content)  # well-formed, whatever the titles held
    entries = [*root.iter("item"), *root.iter(f"{ATOM}entry")]
    for entry in entries:
        for element in entry.iter():
            if element.tag in FEED_HTML_ELEMENTS and element.text:
                # Feed readers render an entry's description and content as HTML.
                assert not find_executable(element.text), (where, element.text[:200])
    assert TEMPLATE_PRODUCT not in response.content.decode()


def check(failures, assertion, response, where):
    """Run one page's assertion, collecting the failure so every page gets checked."""
    try:
        assertion(response, where)
    except Exception as error:
        failures.append(f"{where}: {error!r}"[:300])


@pytest.fixture
def editor(client):
    user = StaffFactory(username="hostile-editor", is_superuser=True)
    client.force_login(user)
    return user


def saved(response):
    """A redirect means the admin saved; a 200 must be the form with a clear error; a NUL
    byte is refused before any form sees it (newsroom/request_guards.py)."""
    if response.status_code == 400 and "NUL byte" in response.content.decode():
        return False
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:
        assert "errornote" in response.content.decode() or "errorlist" in response.content.decode()
        return False
    return True


def made_by_admin(client, number, payload):
    """Section, author, image and article built through the admin forms."""
    text = as_a_browser_sends(payload)
    suffix = f"hostile-{number}"

    section_saved = saved(
        submit(
            client,
            "/admin/articles/section/add/",
            {"name": text, "slug": suffix},
            form_id="section_form",
        )
    )
    section = Section.objects.get(slug=suffix) if section_saved else SectionFactory(slug=suffix)

    author_saved = saved(
        submit(
            client,
            "/admin/articles/author/add/",
            {"name": text, "slug": suffix, "role": text, "bio": text},
            form_id="author_form",
        )
    )
    author = Author.objects.get(slug=suffix) if author_saved else AuthorFactory(slug=suffix)

    before = set(Image.objects.values_list("pk", flat=True))
    image_saved = saved(
        submit(
            client,
            "/admin/articles/image/add/",
            {"alt_text": text, "caption": text, "credit": text, "source": text},
            files={"file": image_file(width=400, height=300, name="hostile.jpg")},
            form_id="image_form",
        )
    )
    image = Image.objects.exclude(pk__in=before).get() if image_saved else ImageFactory()

    now = timezone.localtime(timezone.now() - timedelta(minutes=5))
    fields = {
        "title": text,
        "slug": suffix,
        "dek": text,
        "body": f"<p>A paragraph the sanitiser keeps.</p><p>{text}</p>{text}",
        "tags": f"{text}, plain-{number}",
        "section": str(section.pk),
        "lead_image": str(image.pk),
        "lead_image_caption": text,
        "seo_title": text[:200],
        "seo_description": text[:300],
        "status": Article.Status.PUBLISHED,
        "publish_at_0": now.strftime("%Y-%m-%d"),
        "publish_at_1": now.strftime("%H:%M:%S"),
        "bylines-TOTAL_FORMS": "1",
        "bylines-0-author": str(author.pk),
        "bylines-0-position": "0",
    }
    url = "/admin/articles/article/add/"
    article_saved = saved(submit(client, url, fields, form_id="article_form"))
    if not article_saved:
        # The body may be refused with a clear error (an image not from the library):
        # the payload still goes through every other field.
        body = "<p>A paragraph the sanitiser keeps.</p>"
        article_saved = saved(submit(client, url, {**fields, "body": body}, form_id="article_form"))
    article = Article.objects.filter(slug=suffix).first()
    # Only a NUL byte or an over-long title may be refused; anything else must be
    # stored (safely) or the test would prove nothing.
    assert article_saved or "\x00" in payload or len(payload) > 200, "article refused"
    return section, author, article


def public_urls(section, author, article):
    urls = ["/", "/corrections/", section.get_absolute_url(), author.get_absolute_url()]
    if article is not None and article.is_public:
        urls.append(article.get_absolute_url())
        urls += [f"/tag/{tag.slug}/" for tag in article.tags.all()]
    return urls


@pytest.mark.parametrize("payload", PAYLOADS, ids=[payload_id(p) for p in PAYLOADS])
def test_hostile_content_from_the_admin_never_executes(client, editor, payload):
    number = PAYLOADS.index(payload)
    section, author, article = made_by_admin(client, number, payload)
    if article is not None and not article.is_public:
        services.publish_article(article=article, by=editor)
        article.refresh_from_db()

    # Staff see the admin; log out to see what readers (and the page cache) see.
    failures = []
    if article is not None:
        check(
            failures,
            assert_safe_html,
            client.get(f"/admin/articles/article/{article.pk}/change/"),
            "admin",
        )
    client.logout()
    client.raise_request_exception = False  # a 500 is recorded, not raised
    for url in public_urls(section, author, article):
        check(failures, assert_safe_html, client.get(url), url)
    for url in (
        "/feed/",
        "/feed/atom/",
        f"/section/{section.slug}/feed/",
        f"/author/{author.slug}/feed/",
        "/sitemap.xml",
        "/news-sitemap.xml",
    ):
        check(failures, assert_safe_feed, client.get(url), url)
    assert not failures, failures

    if article is not None and article.is_public:
        text = as_a_browser_sends(payload)
        issue = Issue.objects.create(subject=text[:200], intro=text)
        IssueArticle.objects.create(issue=issue, article=article, position=0)
        text, html = render_roundup(issue, unsubscribe_url="https://example.com/u/x/")
        assert not find_executable(html), "round-up email"
        assert TEMPLATE_PRODUCT not in text + html


@pytest.mark.parametrize("payload", PAYLOADS, ids=[payload_id(p) for p in PAYLOADS])
def test_hostile_search_queries_are_harmless(client, payload):
    SectionFactory()
    response = client.get("/search/?q=" + quote(for_the_wire(payload)))
    assert response.status_code in (200, 400, 429), response.status_code
    assert_safe_html(response, "search")


@pytest.mark.parametrize("payload", PAYLOADS, ids=[payload_id(p) for p in PAYLOADS])
def test_hostile_signup_addresses_are_harmless(client, payload):
    body = "email=" + quote(for_the_wire(payload))
    response = client.post("/newsletter/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 400, 429), response.status_code
    assert_safe_html(response, "signup")
    for message in mail.outbox:
        assert len(message.to) == 1 and "\n" not in message.to[0] and "\r" not in message.to[0]
        assert "victim@example.com" not in " ".join(message.recipients())
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                assert not find_executable(content), "confirmation email"


@pytest.mark.parametrize("address", [p for p in EMAILS if "@" in p])
def test_a_hostile_but_valid_address_gets_a_harmless_confirmation(client, address):
    client.post("/newsletter/", {"email": address})
    for message in mail.outbox:
        assert "victim@example.com" not in " ".join(message.recipients())
        for content, mimetype in message.alternatives:
            if mimetype == "text/html":
                assert not find_executable(content)


ADMIN_SEARCHES = [
    "/admin/articles/article/",
    "/admin/articles/section/",
    "/admin/articles/author/",
    "/admin/articles/image/",
    "/admin/taggit/tag/",
    "/admin/newsletter/subscriber/",
    "/admin/newsletter/issue/",
    "/admin/auth/user/",
    "/admin/axes/accessattempt/",
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=[payload_id(p) for p in PAYLOADS])
def test_hostile_admin_searches_are_harmless(client, editor, payload):
    wire = quote(for_the_wire(payload))
    for changelist in ADMIN_SEARCHES:
        response = client.get(f"{changelist}?q={wire}")
        # A NUL byte cannot reach PostgreSQL: refused before the admin sees it.
        expected = (400,) if "\x00" in payload else (200, 302)
        assert response.status_code in expected, (changelist, response.status_code)
        body = response.content.decode()
        assert not find_executable(body), changelist
        assert not re.search(r"<script>alert\('XSS'\)</script>", body)
