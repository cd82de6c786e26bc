import feedparser
import pytest

from articles import cache
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    ImageFactory,
    RenditionFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db

SITE = "https://news.example.com"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def parse(client, url):
    response = client.get(url)
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return response, feed


def article_with_images():
    lead = ImageFactory(credit="Lead Credit")
    RenditionFactory(image=lead, format="jpeg", width=960, height=600)
    inline = ImageFactory(credit="Inline Credit")
    return ArticleFactory(
        published=True,
        title="Ceasefire <holds> & more",
        lead_image=lead,
        body=f'<p>Full text.</p><figure data-image-id="{inline.pk}"><img src="{inline.file.url}" '
        f'data-image-id="{inline.pk}" alt=""><figcaption>Inline caption</figcaption></figure>',
    )


def test_rss_feed_parses_and_carries_absolute_links(client):
    article = article_with_images()
    response, feed = parse(client, "/feed/")
    assert response["Content-Type"].startswith("application/rss+xml")
    assert feed.version == "rss20"
    entry = feed.entries[0]
    assert entry.title == "Ceasefire <holds> & more"
    assert entry.link == SITE + article.get_absolute_url()
    assert feed.feed.link == SITE + "/"


def test_rss_feed_has_full_content_with_absolute_image_urls(client):
    article_with_images()
    _, feed = parse(client, "/feed/")
    content = feed.entries[0].content[0].value
    assert "Full text." in content and "Inline caption" in content and "Inline Credit" in content
    assert f'src="{SITE}/media/' in content
    assert 'src="/media/' not in content


def test_rss_feed_has_the_lead_image_as_enclosure(client):
    article_with_images()
    _, feed = parse(client, "/feed/")
    enclosure = feed.entries[0].enclosures[0]
    assert enclosure.href.startswith(SITE + "/media/renditions/")
    assert enclosure.type == "image/jpeg"
    assert int(enclosure.length) > 0


def test_atom_feed_parses_with_full_content(client):
    article = article_with_images()
    response, feed = parse(client, "/feed/atom/")
    assert response["Content-Type"].startswith("application/atom+xml")
    assert feed.version == "atom10"
    entry = feed.entries[0]
    assert entry.link == SITE + article.get_absolute_url()
    assert any("Full text." in part.value for part in entry.content)


def test_feed_leaves_out_drafts(client):
    ArticleFactory(title="Secret draft")
    _, feed = parse(client, "/feed/")
    assert all(entry.title != "Secret draft" for entry in feed.entries)


def test_section_feed_has_only_that_section(client):
    section = SectionFactory(slug="middle-east")
    ArticleFactory(published=True, section=section, title="In section")
    ArticleFactory(published=True, title="Elsewhere")
    _, feed = parse(client, "/section/middle-east/feed/")
    assert [entry.title for entry in feed.entries] == ["In section"]


def test_author_feed_has_only_their_articles(client):
    author = AuthorFactory(slug="kelsey")
    ArticleFactory(published=True, authors=[author], title="Hers")
    ArticleFactory(published=True, title="Someone else's")
    _, feed = parse(client, "/author/kelsey/feed/")
    assert [entry.title for entry in feed.entries] == ["Hers"]
    assert feed.entries[0].author == author.name


def test_feed_of_unknown_section_is_404(client):
    assert client.get("/section/none/feed/").status_code == 404


def test_hostile_title_cannot_break_the_feed(client):
    ArticleFactory(published=True, title="]]></title><script>alert(1)</script>", dek="\"'<&>")
    _, feed = parse(client, "/feed/")
    assert feed.entries[0].title == "]]></title><script>alert(1)</script>"


def test_an_items_kept_content_follows_an_edit_at_once(client, settings):
    client.cookies[settings.SESSION_COOKIE_NAME] = "reader-session"  # past the page cache
    article = ArticleFactory(published=True, body="<p>First telling.</p>")
    assert "First telling." in client.get("/feed/").content.decode()
    article.body = "<p>Second telling.</p>"
    article.save()
    feed = client.get("/feed/").content.decode()
    assert "Second telling." in feed and "First telling." not in feed


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_a_feed_with_kept_items_is_the_feed_built_afresh(client, settings, url):
    client.cookies[settings.SESSION_COOKIE_NAME] = "reader-session"  # past the page cache
    ArticleFactory.create_batch(3, published=True)
    first = client.get(url).content
    kept = client.get(url).content
    cache.invalidate()  # nothing kept any more; the content has not changed
    afresh = client.get(url).content
    assert first == kept == afresh
    assert feedparser.parse(kept).entries


def test_a_feed_past_the_page_cache_reads_one_row_set_once_its_items_are_kept(
    client, settings, django_assert_num_queries
):
    client.cookies[settings.SESSION_COOKIE_NAME] = "reader-session"
    ArticleFactory.create_batch(3, published=True)
    client.get("/feed/")
    with django_assert_num_queries(1):
        client.get("/feed/")
