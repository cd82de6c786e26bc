"""Each article's feed items are written once, kept with its page and reused until what
they show changes; a feed written from them says what the syndication views said."""

import time
from calendar import timegm
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import feedparser
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import article_page, body, feed_items, services
from articles.models import KeptArticlePage
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    EditorFactory,
    ImageFactory,
    NoteFactory,
    RenditionFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db

SITE = "https://news.example.com"
FIRST_PUBLISHED = datetime(2026, 6, 30, 21, 15, tzinfo=UTC)
PUBLISHED = datetime(2026, 7, 1, 8, 5, tzinfo=UTC)
UPDATED = datetime(2026, 7, 2, 17, 30, tzinfo=UTC)
OLDER = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def drawn(monkeypatch):
    """The ids of the articles whose items are written, in order."""
    written = []
    items_of = feed_items.items_of

    def spy(article, **kwargs):
        written.append(article.pk)
        return items_of(article, **kwargs)

    monkeypatch.setattr(feed_items, "items_of", spy)
    return written


def parse(client, url):
    response = client.get(url)
    assert response.status_code == 200
    # As written: feedparser's clean-up of HTML would hide what the feed carries.
    feed = feedparser.parse(response.content, sanitize_html=False, resolve_relative_uris=False)
    assert not feed.bozo, feed.get("bozo_exception")
    return response, feed


def a_rich_story():
    """A story with two authors, a lead picture with its renditions, an inline picture,
    a correction and an update, published, republished and updated at known times."""
    lead = ImageFactory(credit="Lead Credit")
    for width in (480, 960):
        RenditionFactory(image=lead, format="jpeg", width=width, height=width * 5 // 8)
    RenditionFactory(image=lead, format="webp", width=1200, height=750)
    inline = ImageFactory(credit="Inline Credit")
    article = ArticleFactory(
        published=True,
        title="Ceasefire <holds> & talks resume\x0b",
        dek='Both sides "agree" to meet again; <b>not</b> a peace deal.',
        section=SectionFactory(name="Middle East & Africa", slug="middle-east"),
        authors=[
            AuthorFactory(name="Kelsey Norman", slug="kelsey"),
            AuthorFactory(name="Arsen Sahakyan", slug="arsen"),
        ],
        lead_image=lead,
        body=f'<p>Full text.</p><figure data-image-id="{inline.pk}"><img src="{inline.file.url}" '
        f'data-image-id="{inline.pk}" alt=""><figcaption>Inline caption</figcaption></figure>',
        first_published_at=FIRST_PUBLISHED,
        publish_at=PUBLISHED,
        updated_at=UPDATED,
    )
    NoteFactory(article=article, text="The vote was on Tuesday, not Monday.")
    NoteFactory(article=article, kind="update", text="The result is now official.")
    return article


def content_of(article):
    """The article as feeds carry it (articles/article_page.py, unchanged by keeping)."""
    images = body.load_images(article_page.pictures_of(article))
    lead = images[article.lead_image_id]
    return article_page.feed_content(article, lead, list(article.notes.all()), images)


def widest_jpeg(article):
    rendition = article.lead_image.renditions.filter(format="jpeg").order_by("-width").first()
    return SITE + rendition.file.url, str(rendition.file.size)


def test_rss_items_say_what_the_syndication_view_said(client):
    article = a_rich_story()
    ArticleFactory(published=True, title="An older story", publish_at=OLDER)
    _, feed = parse(client, "/feed/")
    assert [entry.title for entry in feed.entries] == [
        "Ceasefire <holds> & talks resume",  # the vertical tab XML cannot carry is gone
        "An older story",
    ]
    entry = feed.entries[0]
    assert entry.id == f"tag:news.example.com,2026-06-30:article:{article.pk}"
    assert entry.guidislink is False
    assert entry.link == SITE + article.get_absolute_url()
    assert (
        entry.summary
        == "Both sides &quot;agree&quot; to meet again; &lt;b&gt;not&lt;/b&gt; a peace deal."
    )
    assert [author.name for author in entry.authors] == ["Kelsey Norman", "Arsen Sahakyan"]
    href, length = widest_jpeg(article)
    assert [(e.href, e.length, e.type) for e in entry.enclosures] == [(href, length, "image/jpeg")]
    assert [tag.term for tag in entry.tags] == ["Middle East & Africa"]
    assert entry.published_parsed[:6] == FIRST_PUBLISHED.timetuple()[:6]
    assert entry.content[0].value == content_of(article).strip()  # feedparser strips
    assert "Inline Credit" in entry.content[0].value and "The result is now official." in (
        entry.content[0].value
    )
    # The channel is dated by its newest item's last update.
    assert feed.feed.updated_parsed[:6] == UPDATED.timetuple()[:6]
    assert feed.feed.title == "The Newsroom" and feed.feed.link == SITE + "/"
    assert feed.feed.language == "en-gb"
    assert feed.feed.image.href == SITE + "/static/img/logo.png"


def test_atom_entries_say_what_the_syndication_view_said(client):
    article = a_rich_story()
    _, feed = parse(client, "/feed/atom/")
    entry = feed.entries[0]
    assert entry.id == f"tag:news.example.com,2026-06-30:article:{article.pk}"
    assert entry.title == "Ceasefire <holds> & talks resume"
    assert entry.link == SITE + article.get_absolute_url()
    assert [(author.name, author.href) for author in entry.authors] == [
        ("Kelsey Norman", SITE + "/author/kelsey/"),
        ("Arsen Sahakyan", SITE + "/author/arsen/"),
    ]
    href, length = widest_jpeg(article)
    assert [(e.href, e.length, e.type) for e in entry.enclosures] == [(href, length, "image/jpeg")]
    assert [tag.term for tag in entry.tags] == ["Middle East & Africa"]
    assert entry.published_parsed[:6] == FIRST_PUBLISHED.timetuple()[:6]
    assert entry.updated_parsed[:6] == UPDATED.timetuple()[:6]
    assert entry.content[0].value == content_of(article).strip()  # feedparser strips
    assert feed.feed.updated_parsed[:6] == UPDATED.timetuple()[:6]
    assert feed.feed.id == SITE + "/"
    assert [link.href for link in feed.feed.links] == [SITE + "/", SITE + "/feed/atom/"]
    assert feed.feed.icon == SITE + "/static/favicon.ico"


def test_a_feed_reuses_kept_items_without_drawing_them_again(reader_with_session, drawn):
    articles = ArticleFactory.create_batch(3, published=True)
    first = reader_with_session.get("/feed/")
    assert sorted(drawn) == sorted(article.pk for article in articles)
    drawn.clear()
    with CaptureQueriesContext(connection) as queries:
        again = reader_with_session.get("/feed/")
    assert drawn == []
    assert len(queries) == 2  # the feed's newest articles, their kept items
    assert again.content == first.content


def test_the_atom_feed_reuses_the_items_kept_by_the_rss_feed_and_the_article_page(
    reader_with_session, drawn
):
    article = ArticleFactory(published=True)
    reader_with_session.get(article.get_absolute_url())
    reader_with_session.get("/feed/")
    reader_with_session.get("/feed/atom/")
    assert drawn == [article.pk]


def test_only_the_items_not_kept_are_drawn(reader_with_session, drawn):
    ArticleFactory(published=True)
    reader_with_session.get("/feed/")
    newer = ArticleFactory(published=True)
    drawn.clear()
    reader_with_session.get("/feed/")
    assert drawn == [newer.pk]


def rename_author(article):
    author = article.bylines.get().author
    author.name = "Renamed Author"
    author.save()
    return "Renamed Author"


def rename_section(article):
    article.section.name = "Renamed Section"
    article.section.save()
    return "Renamed Section"


def edit_article(article):
    article.title = "An edited headline"
    article.save()
    return "An edited headline"


def recredit_lead_image(article):
    article.lead_image.credit = "A New Credit"
    article.lead_image.save()
    return "A New Credit"


def widen_lead_image(article):
    rendition = RenditionFactory(image=article.lead_image, format="jpeg", width=1600, height=1000)
    return rendition.file.url


@pytest.mark.parametrize(
    "change", [edit_article, rename_author, rename_section, recredit_lead_image, widen_lead_image]
)
@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_a_change_to_what_an_item_shows_redraws_it(reader_with_session, drawn, change, url):
    lead = ImageFactory(credit="Lead Credit")
    RenditionFactory(image=lead, format="jpeg", width=960, height=600)
    article = ArticleFactory(published=True, lead_image=lead)
    reader_with_session.get(url)
    drawn.clear()
    shown = change(article)
    feed = reader_with_session.get(url).content.decode()
    assert drawn == [article.pk]
    assert shown in feed


def test_the_kept_row_holds_both_items_as_the_feeds_write_them(client):
    article = a_rich_story()
    rss = client.get("/feed/").content.decode()
    atom = client.get("/feed/atom/").content.decode()
    kept = KeptArticlePage.objects.get(article=article)
    assert kept.rss_item.startswith("<item>") and kept.rss_item in rss
    assert kept.atom_entry.startswith("<entry>") and kept.atom_entry in atom
    assert kept.feed_content == ""  # no longer read: the items carry the content


def test_a_feed_is_last_modified_at_its_newest_items_date(reader_with_session):
    a_rich_story()
    ArticleFactory(published=True, publish_at=OLDER)
    for url in ("/feed/", "/feed/atom/"):
        response = reader_with_session.get(url)
        assert parsedate_to_datetime(response["Last-Modified"]) == UPDATED


def test_a_shared_copy_of_a_feed_is_last_modified_at_its_render(client):
    a_rich_story()
    before = int(time.time())
    response = client.get("/feed/")
    assert before <= timegm(parsedate_to_datetime(response["Last-Modified"]).utctimetuple())


def test_an_empty_feed_is_dated_now(reader_with_session):
    before = int(time.time())
    response = reader_with_session.get("/feed/")
    assert response.status_code == 200
    assert before <= parsedate_to_datetime(response["Last-Modified"]).timestamp()


def test_a_withdrawn_story_leaves_the_feeds_at_once(client, django_capture_on_commit_callbacks):
    staying = ArticleFactory(published=True, title="A story that stays")
    leaving = ArticleFactory(published=True, title="A story that is withdrawn")
    for url in ("/feed/", "/feed/atom/", staying.section.get_absolute_url() + "feed/"):
        client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        services.unpublish_article(article=leaving, by=EditorFactory())
    for url in ("/feed/", "/feed/atom/"):
        response = client.get(url)
        assert "A story that is withdrawn" not in response.content.decode()
        assert "A story that stays" in response.content.decode()
    section_feed = client.get(leaving.section.get_absolute_url() + "feed/").content.decode()
    assert "A story that is withdrawn" not in section_feed
