"""Share cards and JSON-LD on every kind of public page, checked against schema.org."""

import re

import pytest

from articles import images
from articles.models import Rendition
from tests.articles.schema_org import blocks, of_type, problems
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    ImageFactory,
    SectionFactory,
    image_file,
)

pytestmark = pytest.mark.django_db

SITE = "https://news.example.com"


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE
    settings.ORGANIZATION_SAME_AS = [
        "https://bsky.app/profile/newsroom.example.com",
        "https://x.com/newsroom",
    ]


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def meta(html, name):
    found = re.search(rf'<meta (?:property|name)="{re.escape(name)}" content="([^"]*)">', html)
    return found.group(1) if found else None


def test_home_page_has_website_with_search_action_and_the_publisher(client):
    ArticleFactory(published=True)
    html = page(client, "/")
    website = of_type(html, "WebSite")
    action = website["potentialAction"]
    assert action["@type"] == "SearchAction"
    assert action["target"]["urlTemplate"] == SITE + "/search/?q={search_term_string}"
    assert action["query-input"] == "required name=search_term_string"
    organization = of_type(html, "Organization")
    assert organization["logo"]["url"].startswith(SITE + "/static/")
    assert organization["sameAs"] == [
        "https://bsky.app/profile/newsroom.example.com",
        "https://x.com/newsroom",
    ]
    assert website["publisher"]["@id"] == organization["@id"]


def test_home_page_lists_its_articles_as_a_collection(client):
    newer, older = ArticleFactory(published=True), ArticleFactory(published=True)
    older.publish_at = newer.publish_at.replace(year=newer.publish_at.year - 1)
    older.save()
    collection = of_type(page(client, "/"), "CollectionPage")
    items = collection["mainEntity"]["itemListElement"]
    assert [item["url"] for item in items] == [
        SITE + newer.get_absolute_url(),
        SITE + older.get_absolute_url(),
    ]
    assert [item["position"] for item in items] == [1, 2]


def test_second_page_numbers_its_items_on_from_the_first(client):
    ArticleFactory.create_batch(21, published=True)
    html = page(client, "/?page=2")
    (item,) = of_type(html, "CollectionPage")["mainEntity"]["itemListElement"]
    assert item["position"] == 21
    assert not [block for block in blocks(html) if block["@type"] == "WebSite"]


@pytest.mark.parametrize("kind", ["home", "section", "tag", "author"])
def test_every_listing_has_an_open_graph_and_twitter_card(client, kind, settings):
    settings.LANGUAGE_CODE = "en-gb"
    article = ArticleFactory(published=True)
    article.tags.add("Elections")
    url = {
        "home": "/",
        "section": article.section.get_absolute_url(),
        "tag": "/tag/elections/",
        "author": article.ordered_authors[0].get_absolute_url(),
    }[kind]
    html = page(client, url)
    assert meta(html, "og:title") and meta(html, "og:description")
    assert meta(html, "og:url") == SITE + url
    assert meta(html, "og:type") == ("profile" if kind == "author" else "website")
    assert meta(html, "og:locale") == "en_GB"
    assert meta(html, "og:image").startswith(SITE + "/")
    assert meta(html, "og:image:width") == "1200" and meta(html, "og:image:height") == "630"
    assert meta(html, "twitter:card") == "summary_large_image"
    assert meta(html, "twitter:image") == meta(html, "og:image")
    for block in blocks(html):
        assert problems(block) == [], block


def test_section_and_tag_pages_are_collection_pages_with_breadcrumbs(client):
    section = SectionFactory(name="Climate", slug="climate", description="The warming world.")
    article = ArticleFactory(published=True, section=section)
    article.tags.add("Glaciers")
    for url, name in [("/section/climate/", "Climate"), ("/tag/glaciers/", "Glaciers")]:
        html = page(client, url)
        collection = of_type(html, "CollectionPage")
        assert collection["url"] == SITE + url
        assert collection["name"].startswith(name)
        (item,) = collection["mainEntity"]["itemListElement"]
        assert item["url"] == SITE + article.get_absolute_url()
        crumbs = of_type(html, "BreadcrumbList")["itemListElement"]
        assert crumbs[-1]["item"] == SITE + url


def test_author_page_is_a_profile_page_about_the_person(client):
    photo = ImageFactory()
    author = AuthorFactory(
        name="Kelsey Norman",
        role="Senior Editor",
        photo=photo,
        website="https://kelsey.example.org/",
        mastodon_url="https://mastodon.social/@kelsey",
    )
    article = ArticleFactory(published=True, authors=[author])
    html = page(client, author.get_absolute_url())
    profile = of_type(html, "ProfilePage")
    person = profile["mainEntity"]
    assert person["@type"] == "Person"
    assert person["name"] == "Kelsey Norman"
    assert person["jobTitle"] == "Senior Editor"
    assert person["url"] == SITE + author.get_absolute_url()
    assert person["sameAs"] == ["https://kelsey.example.org/", "https://mastodon.social/@kelsey"]
    assert person["image"]["url"].startswith(SITE + "/media/")
    (item,) = of_type(html, "ItemList")["itemListElement"]
    assert item["url"] == SITE + article.get_absolute_url()
    assert meta(html, "og:image").startswith(SITE + "/media/")


def test_operator_settings_name_the_publisher(client, settings):
    settings.ORGANIZATION_NAME = "Example Media Ltd"
    settings.ORGANIZATION_LOGO_URL = "https://cdn.example.com/logo.png"
    settings.SHARE_IMAGE_URL = "/static/img/custom-card.png"
    ArticleFactory(published=True)
    html = page(client, "/")
    organization = of_type(html, "Organization")
    assert organization["name"] == "Example Media Ltd"
    assert organization["logo"]["url"] == "https://cdn.example.com/logo.png"
    assert meta(html, "og:image") == SITE + "/static/img/custom-card.png"


def cropped_image(**fields):
    """A 2400 x 1600 picture with its renditions and focal-point crops made."""
    image = ImageFactory(file=image_file(width=2400, height=1600), **fields)
    images.ensure_renditions(image)
    return image


def test_article_json_ld_lists_the_three_aspect_ratios_at_1200_wide(client):
    image = cropped_image()
    article = ArticleFactory(published=True, lead_image=image)
    data = blocks(page(client, article.get_absolute_url()))[0]
    assert problems(data) == []
    sizes = [(picture["width"], picture["height"]) for picture in data["image"]]
    assert sizes == [(1200, 675), (1200, 900), (1200, 1200)]
    assert all(picture["url"].startswith(SITE + "/media/renditions/") for picture in data["image"])


def test_article_og_image_is_the_1200_by_630_crop(client):
    image = cropped_image()
    article = ArticleFactory(published=True, lead_image=image)
    html = page(client, article.get_absolute_url())
    share = Rendition.objects.get(image=image, crop="share")
    assert meta(html, "og:image") == SITE + share.file.url
    assert (meta(html, "og:image:width"), meta(html, "og:image:height")) == ("1200", "630")


def test_image_licence_url_and_where_to_license_it_reach_json_ld(client):
    image = ImageFactory(
        license="https://creativecommons.org/licenses/by/4.0/",
        acquire_license_page="https://agency.example.com/photo/123",
        copyright_notice="© 2026 Agency. Editorial use only.",
    )
    article = ArticleFactory(published=True, lead_image=image)
    (picture,) = blocks(page(client, article.get_absolute_url()))[0]["image"]
    assert picture["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert picture["acquireLicensePage"] == "https://agency.example.com/photo/123"
    assert picture["copyrightNotice"] == "© 2026 Agency. Editorial use only."
    assert picture["creditText"]


def test_listing_structured_data_adds_no_query_per_article(client, django_assert_max_num_queries):
    from newsroom.pagecache import store
    from tests.articles.test_query_budgets import LISTING_FIRST_BUDGET

    ArticleFactory.create_batch(20, published=True)
    store.next_moment()
    with django_assert_max_num_queries(LISTING_FIRST_BUDGET):
        html = page(client, "/")
    assert len(of_type(html, "CollectionPage")["mainEntity"]["itemListElement"]) == 20
