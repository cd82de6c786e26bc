import json
import re

import pytest

from articles.models import Article
from tests.factories import ArticleFactory, AuthorFactory, ImageFactory, NoteFactory

pytestmark = pytest.mark.django_db

SITE = "https://news.example.com"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def json_ld(page):
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return [json.loads(block) for block in blocks]


def article_page(client, article):
    return client.get(article.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    ("kind", "schema_type"),
    [
        (Article.Kind.ANALYSIS, "AnalysisNewsArticle"),
        (Article.Kind.OPINION, "OpinionNewsArticle"),
        (Article.Kind.NEWS, "ReportageNewsArticle"),
        (Article.Kind.FEATURE, "NewsArticle"),
    ],
)
def test_json_ld_type_follows_the_kind(client, kind, schema_type):
    article = ArticleFactory(published=True, kind=kind)
    assert json_ld(article_page(client, article))[0]["@type"] == schema_type


def test_json_ld_carries_the_article_fields(client):
    image = ImageFactory(
        credit="Gavriil Grigorov/TASS",
        license="https://example.org/licence",
        copyright_notice="© TASS",
    )
    author = AuthorFactory(name="Kelsey Norman")
    article = ArticleFactory(
        published=True, lead_image=image, authors=[author], dek="A fragile peace."
    )
    article.tags.add("Armenia", "Azerbaijan")
    data = json_ld(article_page(client, article))[0]
    assert data["headline"] == article.title
    assert data["description"] == "A fragile peace."
    assert data["datePublished"] and data["dateModified"]
    assert data["author"] == [
        {
            "@type": "Person",
            "name": "Kelsey Norman",
            "url": SITE + author.get_absolute_url(),
            "jobTitle": author.role,
        }
    ]
    assert data["publisher"]["@type"] == "Organization"
    assert data["publisher"]["logo"]["url"].startswith(SITE + "/static/")
    assert data["articleSection"] == article.section.name
    assert sorted(data["keywords"]) == ["Armenia", "Azerbaijan"]
    (picture,) = data["image"]
    assert picture["@type"] == "ImageObject"
    assert picture["creditText"] == "Gavriil Grigorov/TASS via Example Images"
    assert picture["license"] == "https://example.org/licence"
    assert picture["copyrightNotice"] == "© TASS"
    assert picture["url"].startswith(SITE + "/media/")


def test_json_ld_lists_corrections_but_not_updates(client):
    article = ArticleFactory(published=True)
    NoteFactory(article=article, text="We had the date wrong.")
    NoteFactory(article=article, kind="update", text="More news came in.")
    data = json_ld(article_page(client, article))[0]
    (correction,) = data["correction"]
    assert correction["@type"] == "CorrectionComment"
    assert correction["text"] == "We had the date wrong."
    assert correction["datePublished"]


def test_breadcrumb_list_goes_home_section_article(client):
    article = ArticleFactory(published=True)
    breadcrumbs = json_ld(article_page(client, article))[1]
    assert breadcrumbs["@type"] == "BreadcrumbList"
    items = breadcrumbs["itemListElement"]
    assert [item["position"] for item in items] == [1, 2, 3]
    assert items[2]["item"] == SITE + article.get_absolute_url()


def test_script_closing_tag_in_a_title_cannot_escape_json_ld(client):
    title = '</script><script>alert("x")</script>'
    article = ArticleFactory(published=True, title=title)
    page = article_page(client, article)
    assert '<script>alert("x")' not in page
    assert json_ld(page)[0]["headline"] == title


def test_article_has_title_description_canonical_and_social_tags(client):
    image = ImageFactory()
    article = ArticleFactory(
        published=True, lead_image=image, seo_title="SEO headline", seo_description="SEO words."
    )
    page = article_page(client, article)
    assert "<title>SEO headline · The Newsroom</title>" in page
    assert '<meta name="description" content="SEO words.">' in page
    assert f'<link rel="canonical" href="{SITE}{article.get_absolute_url()}">' in page
    assert '<meta property="og:type" content="article">' in page
    assert f'<meta property="og:image" content="{SITE}{image.file.url}">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page


def test_listing_pages_have_distinct_titles_and_canonical_urls(client):
    ArticleFactory.create_batch(21, published=True)
    first = client.get("/").content.decode()
    second = client.get("/?page=2&utm_source=x").content.decode()
    title = re.compile(r"<title>(.*?)</title>")
    assert title.search(first).group(1) != title.search(second).group(1)
    assert f'<link rel="canonical" href="{SITE}/?page=2">' in second
