"""Hostile text in every public place, opened in Chromium: no injected script ever runs.

The payloads come from tests/security/payloads.py and go where editors type: titles,
deks, bodies (through the sanitiser, as the admin stores them), captions, credits,
alt text, author names and bios, section names, tags, correction notes, and the search
box. Every payload that could execute calls alert('XSS'), so a dialog, a JavaScript
error or a console error about a refused inline script means one got through.
"""

from datetime import timedelta
from urllib.parse import quote

import pytest

from tests.security.payloads import MARKER, PAYLOADS

pytestmark = pytest.mark.e2e

# One or two of each family: script tags, event handlers (including those that fire
# without a click: autofocus, ontoggle, onerror), dangerous URLs, SVG and MathML,
# broken markup, breaking out of attributes and of <script> (JSON-LD), template syntax.
CHOSEN = [
    "<script>alert('XSS')</script>",
    "<<script>alert('XSS');//<</script>",
    "<img src=x onerror=alert('XSS')>",
    "<input autofocus onfocus=alert('XSS')>",
    "<details open ontoggle=alert('XSS')>",
    '" onmouseover="alert(\'XSS\')" x="',
    "' onfocus='alert(`XSS`)' autofocus='",
    "<a href=\"javascript:alert('XSS')\">click</a>",
    "<iframe srcdoc=\"<script>alert('XSS')</script>\"></iframe>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(\'XSS\')">',
    "<svg><script>alert('XSS')</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('XSS')>",
    "</div></main></body></html><script>alert('XSS')</script>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert('XSS')>\">",
    "</script><script>alert('XSS')</script>",
    '"}</script><script>alert("XSS")</script>',
    "{{ 31337*31337 }}",
]


@pytest.fixture
def hostile_site(db):
    """A section, an author and a picture per payload, each with a published article."""
    from django.utils import timezone

    from articles import images
    from articles.models import Note
    from articles.richtext import sanitize_html
    from tests.factories import ArticleFactory, AuthorFactory, ImageFactory, SectionFactory

    assert set(CHOSEN) <= set(PAYLOADS), "payloads.py changed: update CHOSEN"
    now = timezone.now()
    sections, authors, articles = [], [], []
    for number, payload in enumerate(CHOSEN):
        section = SectionFactory(name=payload[:100], slug=f"hostile-{number}", position=number)
        author = AuthorFactory(
            name=payload[:200], slug=f"hostile-{number}", role=payload[:200], bio=payload
        )
        picture = ImageFactory(
            alt_text=payload, caption=payload, credit=payload[:200], source=payload[:200]
        )
        images.ensure_renditions(picture)
        article = ArticleFactory(
            published=True,
            title=f"{payload} {number}"[:200],
            slug=f"hostile-story-{number}",
            dek=payload,
            section=section,
            authors=[author],
            lead_image=picture,
            lead_image_caption=payload,
            body=sanitize_html(f"<p>A paragraph the sanitiser keeps.</p><p>{payload}</p>{payload}"),
            seo_title=payload[:200],
            seo_description=payload[:300],
            publish_at=now - timedelta(minutes=number + 1),
            first_published_at=now - timedelta(minutes=number + 1),
        )
        article.tags.add(payload[:100], f"plain-{number}")
        Note.objects.create(article=article, kind=Note.Kind.CORRECTION, text=payload)
        sections.append(section)
        authors.append(author)
        articles.append(article)
    return sections, authors, articles


def urls_to_open(sections, authors, articles):
    urls = ["/", "/corrections/", "/feed/", "/feed/atom/"]
    for number, (section, author, article) in enumerate(
        zip(sections, authors, articles, strict=True)
    ):
        urls += [article.get_absolute_url(), section.get_absolute_url(), author.get_absolute_url()]
        urls += [f"/tag/{tag.slug}/" for tag in article.tags.all() if tag.slug != f"plain-{number}"]
        if number < 4:  # feeds escape alike whatever the section or author
            urls += [f"{section.get_absolute_url()}feed/", f"{author.get_absolute_url()}feed/"]
    urls += [f"/search/?q={quote(payload)}" for payload in CHOSEN[:8]]
    return urls


def watch(page):
    """Record (and dismiss) every dialog, and every console error, the page produces."""
    seen = []

    def on_dialog(dialog):
        seen.append(f"{dialog.type} dialog: {dialog.message!r}")
        dialog.dismiss()

    def on_console(message):
        if message.type == "error":
            seen.append(f"console error: {message.text}")

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    return seen


def test_no_payload_opens_a_dialog_on_any_public_page(page, hostile_site):
    sections, authors, articles = hostile_site
    seen = watch(page)
    failures = []
    shown_as_text = 0
    for url in urls_to_open(sections, authors, articles):
        response = page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        # Give handlers that fire on their own (autofocus, ontoggle, meta refresh) a moment.
        page.wait_for_timeout(150)
        if "feed" not in url:
            # A harmless payload is shown as text, so the test proves something.
            shown_as_text += MARKER in page.locator("body").inner_text()
        failures += [f"{url}: {event}" for event in seen]
        seen.clear()
    assert not failures, "\n".join(failures)
    assert shown_as_text >= len(CHOSEN) * 3, "the payloads did not reach the pages"


def test_a_focused_and_hovered_page_still_opens_no_dialog(page, hostile_site):
    """Handlers that need a person (hover, focus, a click on a link) get one."""
    _, _, articles = hostile_site
    seen = watch(page)
    for article in articles[:6]:
        page.goto(article.get_absolute_url())
        elements = page.locator("main a, main p, main figure, main h1").all()
        for element in [element for element in elements if element.is_visible()][:40]:
            element.hover(timeout=2_000)
        for _ in range(15):
            page.keyboard.press("Tab")
        for link in page.locator("main a").all():
            href = link.get_attribute("href") or ""
            assert not href.strip().lower().startswith(("javascript:", "data:")), href
    assert not seen, "\n".join(seen)
