"""The reader's journey: home → a teaser opens and closes → article → author → section →
search → RSS feed, in Chromium, as a reader clicks through."""

import re

import feedparser
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

ARTICLE_PATH = re.compile(r"/\d{4}/\d{2}/\d{2}/[\w-]+/$")


def teaser_of(page, article):
    return page.locator("article", has=page.get_by_role("link", name=article.title, exact=True))


def toggle(teaser, name):
    """The teaser's expand/collapse control, whichever role the script gives it."""
    pattern = re.compile(name, re.I)
    return teaser.get_by_role("button", name=pattern).or_(teaser.get_by_role("link", name=pattern))


def test_reader_goes_from_home_to_article_author_section_search_and_feed(page, newsroom):
    story = newsroom.article
    takeda = newsroom.authors[0]

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    teaser = teaser_of(page, story).first
    expect(teaser).to_be_visible()
    expect(page.get_by_text(newsroom.draft.title)).to_have_count(0)

    # "Keep reading" opens the teaser where it is, without loading another page.
    page.evaluate("window.__stillTheSamePage = true")
    keep_reading = toggle(teaser, "keep reading")
    expect(keep_reading).to_have_attribute("aria-expanded", "false")
    keep_reading.click()
    expanded = teaser.get_by_text("Shipping companies counted their losses")
    expect(expanded).to_be_visible()
    show_less = toggle(teaser, "show less")
    expect(show_less).to_have_attribute("aria-expanded", "true")
    show_less.click()
    expect(expanded).to_be_hidden()
    expect(toggle(teaser, "keep reading")).to_have_attribute("aria-expanded", "false")
    assert page.evaluate("window.__stillTheSamePage") is True

    teaser.get_by_role("link", name=story.title, exact=True).click()
    expect(page).to_have_url(ARTICLE_PATH)
    assert page.url.endswith(story.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text(story.title)
    expect(page.get_by_text(story.dek).first).to_be_visible()

    page.get_by_role("main").get_by_role("link", name=takeda.name).first.click()
    expect(page).to_have_url(re.compile(rf"/author/{takeda.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(takeda.name)
    expect(page.get_by_text(takeda.bio)).to_be_visible()
    expect(page.get_by_role("link", name=story.title, exact=True)).to_be_visible()

    section = story.section
    page.get_by_role("navigation", name=re.compile("section", re.I)).get_by_role(
        "link", name=section.name, exact=True
    ).click()
    expect(page).to_have_url(re.compile(rf"/section/{section.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(section.name)
    expect(page.get_by_role("link", name=story.title, exact=True)).to_be_visible()

    search = page.get_by_role("searchbox").first
    search.fill(newsroom.search_word)
    search.press("Enter")
    expect(page).to_have_url(re.compile(rf"/search/\?q={newsroom.search_word}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(newsroom.search_word)
    result = page.get_by_role("main").get_by_role("link", name=story.title, exact=True)
    expect(result).to_be_visible()

    feed_link = page.locator('link[rel="alternate"][type="application/rss+xml"]').first
    feed_url = feed_link.get_attribute("href")
    response = page.request.get(feed_url)
    assert response.ok
    assert "xml" in response.headers["content-type"]
    feed = feedparser.parse(response.body())
    assert not feed.bozo, feed.bozo_exception
    titles = [entry.title for entry in feed.entries]
    assert story.title in titles
    assert newsroom.draft.title not in titles


def test_keep_reading_is_a_plain_link_without_javascript(new_page, newsroom):
    page = new_page(java_script=False)
    page.goto("/")
    teaser = teaser_of(page, newsroom.article).first
    teaser.get_by_role("link", name=re.compile("keep reading", re.I)).click()
    expect(page).to_have_url(ARTICLE_PATH)
    expect(page.get_by_role("heading", level=1)).to_have_text(newsroom.article.title)


def test_reader_on_a_phone_reaches_an_article_from_home(new_page, newsroom):
    page = new_page(width=390, height=844)
    page.goto("/")
    page.get_by_role("link", name=newsroom.article.title, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(newsroom.article.title)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the article page scrolls sideways by {overflow}px at 390px"
