import feedparser
import pytest

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


def test_an_items_kept_content_follows_an_edit_at_once(reader_with_session):
    article = ArticleFactory(published=True, body="<p>First telling.</p>")
    assert "First telling." in reader_with_session.get("/feed/").content.decode()
    article.body = "<p>Second telling.</p>"
    article.save()
    feed = reader_with_session.get("/feed/").content.decode()
    assert "Second telling." in feed and "First telling." not in feed


def test_a_feed_past_the_page_cache_costs_a_fixed_number_of_queries(
    reader_with_session, django_assert_max_num_queries
):
    ArticleFactory.create_batch(5, published=True)
    # The first time, each item is drawn and kept: its article with its bylines, tags
    # and notes (4), its pictures (1) and the write (1, in a savepoint: 2 more inside a
    # test's transaction); the session once.
    with django_assert_max_num_queries(2 + 8 + 1):
        reader_with_session.get("/feed/")
    ArticleFactory.create_batch(5, published=True)
    with django_assert_max_num_queries(2 + 8):
        reader_with_session.get("/feed/")
    # Then the feed's newest articles and their kept items.
    with django_assert_max_num_queries(2):
        reader_with_session.get("/feed/")


def test_feed_ids_are_permanent_tag_uris_that_survive_a_new_slug(
    client, django_capture_on_commit_callbacks
):
    article = ArticleFactory(published=True, slug="first-slug")
    expected = f"tag:news.example.com,{article.first_published_at:%Y-%m-%d}:article:{article.pk}"
    rss = client.get("/feed/").content.decode()
    assert f'<guid isPermaLink="false">{expected}</guid>' in rss
    _, atom = parse(client, "/feed/atom/")
    assert atom.entries[0].id == expected
    article.slug = "a-better-slug"
    with django_capture_on_commit_callbacks(execute=True):
        article.save()
    _, again = parse(client, "/feed/")
    assert again.entries[0].id == expected
    assert again.entries[0].link.endswith("/a-better-slug/")


def test_corrections_and_updates_travel_in_the_item_content(client):
    from tests.factories import NoteFactory

    article = ArticleFactory(published=True)
    NoteFactory(article=article, text="The vote was on Tuesday, not Monday.")
    NoteFactory(article=article, kind="update", text="The result is now official.")
    for url in ("/feed/", "/feed/atom/"):
        _, feed = parse(client, url)
        content = feed.entries[0].content[0].value
        assert "Correction" in content and "The vote was on Tuesday, not Monday." in content
        assert "Update" in content and "The result is now official." in content


def test_every_author_is_named_in_rss_and_atom(client):
    first = AuthorFactory(name="Kelsey Norman", slug="kelsey")
    second = AuthorFactory(name="Arsen Sahakyan", slug="arsen")
    ArticleFactory(published=True, authors=[first, second])
    rss = client.get("/feed/").content.decode()
    assert "<dc:creator>Kelsey Norman</dc:creator><dc:creator>Arsen Sahakyan</dc:creator>" in rss
    _, feed = parse(client, "/feed/")
    assert [author.name for author in feed.entries[0].authors] == [
        "Kelsey Norman",
        "Arsen Sahakyan",
    ]
    _, atom = parse(client, "/feed/atom/")
    authors = atom.entries[0].authors
    assert [(a.name, a.href) for a in authors] == [
        ("Kelsey Norman", SITE + "/author/kelsey/"),
        ("Arsen Sahakyan", SITE + "/author/arsen/"),
    ]


def test_feeds_carry_the_publication_logo_and_icon(client):
    ArticleFactory(published=True)
    _, rss = parse(client, "/feed/")
    assert rss.feed.image.href == SITE + "/static/img/logo.png"
    assert rss.feed.image.link == SITE + "/"
    _, atom = parse(client, "/feed/atom/")
    assert atom.feed.icon == SITE + "/static/favicon.ico"
    assert atom.feed.logo == SITE + "/static/img/logo.png"


def test_feed_language_follows_language_code(client, settings):
    settings.LANGUAGE_CODE = "fr-ca"
    ArticleFactory(published=True)
    _, rss = parse(client, "/feed/")
    assert rss.feed.language == "fr-ca"
    atom = client.get("/feed/atom/").content.decode()
    assert 'xml:lang="fr-ca"' in atom


def test_an_items_content_is_kept_and_follows_a_change_to_its_inline_picture(
    reader_with_session,
):
    from articles.models import Image, KeptArticlePage

    article = article_with_images()
    _, feed = parse(reader_with_session, "/feed/")
    kept = KeptArticlePage.objects.get(article=article)
    assert "Inline Credit" in kept.rss_item and f'src="{SITE}/media/' in kept.rss_item
    inline = Image.objects.exclude(pk=article.lead_image_id).get()
    inline.credit = "Another Credit"
    inline.save()
    _, feed = parse(reader_with_session, "/feed/")
    content = feed.entries[0].content[0].value
    assert "Another Credit" in content and "Inline Credit" not in content
