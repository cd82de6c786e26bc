import pytest
from django.db import connection

from articles import search
from articles.models import Article
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def results(client, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    return response.content.decode()


def test_search_finds_published_articles_by_body(client):
    ArticleFactory(
        published=True, title="Peace deal", body="<p>Russian peacekeepers patrol Lachin.</p>"
    )
    page = results(client, "peacekeepers")
    assert "Peace deal" in page


def test_search_ranks_title_above_dek_above_body(client):
    ArticleFactory(
        published=True, title="A body match", dek="Nothing", body="<p>Nakhchivan road.</p>"
    )
    ArticleFactory(published=True, title="A dek match", dek="Through Nakhchivan", body="<p>x</p>")
    ArticleFactory(published=True, title="Nakhchivan in the title", dek="x", body="<p>x</p>")
    page = results(client, "Nakhchivan")
    assert (
        page.index("Nakhchivan in the title")
        < page.index("A dek match")
        < page.index("A body match")
    )


def test_search_never_shows_drafts(client):
    ArticleFactory(title="Secret Stepanakert plan", status=Article.Status.DRAFT)
    assert "Secret Stepanakert plan" not in results(client, "Stepanakert")


def test_search_highlights_matches_in_the_snippet(client):
    ArticleFactory(published=True, body="<p>Ankara supports Baku openly.</p>")
    page = results(client, "Baku")
    assert "<mark>Baku</mark>" in page


def test_snippet_escapes_article_text(client):
    ArticleFactory(published=True, body="<p>Use &lt;script&gt; tags for Baku.</p>")
    page = results(client, "Baku")
    assert "<script>" not in page.split("<main", 1)[1]
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "<script>alert(1)</script>",
        "'; DROP TABLE articles_article; --",
        "a\x00b",
        "x" * 5000,
        "!!! && || :*",
        "the and of",
    ],
)
def test_empty_or_hostile_query_gets_a_normal_page(client, query):
    ArticleFactory(published=True)
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_no_results_says_so(client):
    assert "No articles match" in results(client, "zyzzyva")


def test_search_pages_are_not_stored_in_the_page_cache(client):
    results(client, "anything")
    assert "X-Page-Cache" not in client.get("/search/", {"q": "anything"})


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_search_uses_the_gin_index_expression():
    query = search.search("ceasefire", Article.objects.all())
    assert search.SEARCH_VECTOR_SQL in str(query.query)
    with connection.cursor() as cursor:
        # An empty table is cheapest to scan whole: leave the planner only bitmap scans,
        # which the GIN index can serve only if the expression matches it exactly.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = query.explain()
    assert "Bitmap Index Scan on article_search_idx" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_search_understands_word_forms(client):
    ArticleFactory(published=True, title="Refugees return", body="<p>Displaced families.</p>")
    assert "Refugees return" in results(client, "refugee")
