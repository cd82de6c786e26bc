"""The round-up email in a real browser: fluid at phone width, 600 px at most."""

import pytest

from newsletter.emails import render_roundup
from tests.factories import ArticleFactory, ImageFactory, IssueFactory, RenditionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.e2e]

LONG_TITLE = "Supercalifragilistic-negotiations-over-the-transcontinental-infrastructure-plan"


@pytest.fixture
def roundup_html():
    articles = []
    for n in range(5):
        image = ImageFactory(alt_text=f"Picture {n}", credit=f"Photographer {n}/Agency")
        RenditionFactory(image=image, width=800, height=500)
        RenditionFactory(image=image, width=400, height=250)
        articles.append(
            ArticleFactory(
                published=True,
                title=LONG_TITLE if n == 1 else f"Story number {n} of the week",
                dek="A sentence that explains why the story matters to readers.",
                lead_image=image,
            )
        )
    issue = IssueFactory(
        intro="Dear reader,\n\nFive stories we think you should read this week.",
        articles=articles,
    )
    _text, html = render_roundup(issue, unsubscribe_url="https://example.com/u/x/")
    return html


def _measure(browser, html, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.route("**/*", lambda route: route.abort())  # no image fetches: sizes are attributes
    page = context.new_page()
    page.set_content(html, wait_until="domcontentloaded")
    sizes = page.evaluate(
        """() => {
            const box = (el) => el.getBoundingClientRect();
            const size = (sel) => {
                const el = document.querySelector(sel);
                return el ? parseFloat(getComputedStyle(el).fontSize) : null;
            };
            const imgs = [...document.querySelectorAll('img')].map((img) => box(img).width);
            return {
                scrollWidth: document.documentElement.scrollWidth,
                container: box(document.querySelector('.container')).width,
                lead: imgs[0],
                thumbs: imgs.slice(1),
                leadTitle: size('h2'),
                title: size('h3'),
            };
        }"""
    )
    context.close()
    return sizes


def test_at_390_px_nothing_is_cut_off_on_the_right(browser, roundup_html):
    sizes = _measure(browser, roundup_html, 390)
    assert sizes["scrollWidth"] <= 390
    assert sizes["container"] <= 390
    assert sizes["lead"] <= 390 - 2 * 20  # the content's padding


def test_at_800_px_the_email_is_600_px_wide_with_a_large_lead_and_compact_stories(
    browser, roundup_html
):
    sizes = _measure(browser, roundup_html, 800)
    assert sizes["container"] == 600
    assert sizes["lead"] == 560
    assert sizes["thumbs"] == [96] * 4
    assert sizes["leadTitle"] > sizes["title"]
