import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

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
    # A NUL byte is refused before the view (newsroom/request_guards.py).
    assert response.status_code == (400 if "\x00" in query else 200)
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_no_results_says_so(client):
    assert "No articles match" in results(client, "zyzzyva")


def test_a_repeated_search_is_answered_from_the_page_cache(client):
    ArticleFactory(published=True, title="Harbour strike ends")
    results(client, "harbour")
    assert client.get("/search/", {"q": "harbour"})["X-Page-Cache"] == "hit"


def test_a_kept_search_shows_an_article_published_since(client, django_capture_on_commit_callbacks):
    results(client, "harbour")
    with django_capture_on_commit_callbacks(execute=True):
        ArticleFactory(published=True, title="Harbour strike ends")
    assert "Harbour strike ends" in results(client, "harbour")


def test_a_rate_limited_search_is_never_kept(client, settings):
    settings.RATELIMITS = {**settings.RATELIMITS, "search-ip": "1/m"}
    results(client, "first")
    refused = client.get("/search/", {"q": "second"})
    assert refused.status_code == 429
    assert client.get("/search/", {"q": "second"}).status_code == 429


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_search_matches_through_the_index_and_ranks_on_title_and_dek_only():
    results = search.search("ceasefire", Article.objects.all())
    select = str(results.ranked_head().query).split(" FROM ")[0]
    assert "to_tsvector" not in select, "ranking must not re-parse the text"
    assert '"search_head"' in select and '"search_vector"' not in select
    query = results.body_matches()
    assert '"search_vector" @@' in str(query.query).split(" WHERE ", 1)[1]
    with connection.cursor() as cursor:
        # An empty table is cheapest to scan whole: leave the planner only bitmap scans,
        # which the GIN index can serve only if the query tests its column.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = query.explain()
    assert "Bitmap Index Scan on article_search_vector_idx" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_search_puts_an_old_headline_first_then_every_body_match_newest_first():
    now = timezone.now()
    old_headline = ArticleFactory(
        published=True, title="Glacier melt speeds up", publish_at=now - timedelta(days=900)
    )
    in_body = [
        ArticleFactory(
            published=True,
            body="<p>The glacier again, glacier and glacier.</p>"
            if n == 3
            else "<p>A glacier.</p>",
            publish_at=now - timedelta(days=n),
        )
        for n in range(1, 8)
    ]
    found = list(search.search("glacier", Article.objects.published()))
    assert found == [old_headline, *in_body]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_matching_as_a_subquery_uses_the_index_of_its_own_table():
    # The admin filters on `pk IN (matching …)`: the inner query must test its own rows
    # ("U0"), not the outer table's, or it becomes a correlated scan of every vector.
    query = Article.objects.filter(pk__in=search.matching("ceasefire").values("pk"))
    assert '"U0"."search_vector" @@' in str(query.query)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = query.explain()
    assert "Bitmap Index Scan on article_search_vector_idx" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_search_vector_follows_edits():
    article = ArticleFactory(published=True, title="Quiet day", body="<p>Nothing.</p>")
    assert not search.search("Shusha", Article.objects.all()).exists()
    Article.objects.filter(pk=article.pk).update(body="<p>Talks in Shusha.</p>")
    assert list(search.search("Shusha", Article.objects.all())) == [article]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_search_ranks_more_matches_higher_within_the_dek_tier():
    # The denser match is the older one: recency alone would put it second.
    ArticleFactory(published=True, title="Often", dek="Gyumri, Gyumri and again Gyumri today.")
    ArticleFactory(published=True, title="Once", dek="One mention of Gyumri here.")
    titles = [a.title for a in search.search("Gyumri", Article.objects.all())]
    assert titles == ["Often", "Once"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_search_title_match_outranks_a_body_full_of_the_word():
    ArticleFactory(published=True, title="Gyumri at night", body="<p>Streets.</p>")
    ArticleFactory(published=True, title="Elsewhere", body="<p>" + "Gyumri Gyumri. " * 50 + "</p>")
    titles = [a.title for a in search.search("Gyumri", Article.objects.all())]
    assert titles == ["Gyumri at night", "Elsewhere"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_search_understands_word_forms(client):
    ArticleFactory(published=True, title="Refugees return", body="<p>Displaced families.</p>")
    assert "Refugees return" in results(client, "refugee")


def test_results_show_a_count_a_picture_and_a_dated_time(client):
    from tests.factories import ImageFactory

    image = ImageFactory(alt_text="Harbour at dawn")
    ArticleFactory(published=True, title="Harbour reopens", lead_image=image)
    ArticleFactory(published=True, title="Harbour fees rise")
    page = results(client, "harbour")
    assert "2 articles match “harbour”" in page
    assert 'alt="Harbour at dawn"' in page
    assert re.search(r'<time datetime="[^"]+">\d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC</time>', page)


def test_one_result_is_counted_in_the_singular(client):
    ArticleFactory(published=True, title="Lone lighthouse")
    assert "1 article matches “lighthouse”" in results(client, "lighthouse")


def test_a_count_beyond_one_page_is_given(client, settings):
    ArticleFactory.create_batch(23, published=True, title="Orchard harvest")
    page = results(client, "orchard")
    assert "23 articles match “orchard”" in page


def test_a_misspelt_search_offers_the_spelling_that_finds_articles(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the words are indexed on commit
        ArticleFactory(published=True, title="Ceasefire holds in the north")
    page = results(client, "ceasfire")
    assert "No articles match “ceasfire”" in page
    assert 'Did you mean <a href="/search/?q=ceasefire">ceasefire</a>?' in page


def test_did_you_mean_never_offers_a_word_only_drafts_have(client):
    draft = ArticleFactory(title="Embargoed merger")
    search.index_terms(title=draft.title, dek="")  # as if it had once been published
    page = results(client, "mergr")
    assert "Did you mean" not in page


def test_a_search_with_no_close_spelling_says_so(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ArticleFactory(published=True, title="Ceasefire holds")
    page = results(client, "zzqxv")
    assert "Did you mean" not in page and "Try fewer or different words." in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_a_results_page_and_its_count_are_one_statement(client):
    from django.test.utils import CaptureQueriesContext

    ArticleFactory.create_batch(25, published=True, title="Orchard harvest")
    with CaptureQueriesContext(connection) as captured:
        page = results(client, "orchard")
    assert "25 articles match “orchard”" in page
    ranking = [q["sql"] for q in captured if "websearch_to_tsquery" in q["sql"]]
    assert len(ranking) == 1, ranking


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_pages_run_from_the_head_into_the_body_tier_newest_first():
    now = timezone.now()
    heads = [
        ArticleFactory(
            published=True, title=f"Harbour {n}", publish_at=now - timedelta(days=400 + n)
        )
        for n in range(3)
    ]
    # Inside the body window, and far older than it (read by the second statement).
    recent = [
        ArticleFactory(
            published=True, body="<p>The harbour.</p>", publish_at=now - timedelta(days=n)
        )
        for n in range(1, 4)
    ]
    old = [
        ArticleFactory(
            published=True, body="<p>A harbour.</p>", publish_at=now - timedelta(days=900 + n)
        )
        for n in range(3)
    ]
    expected = [*heads, *recent, *old]
    assert list(search.search("harbour")) == expected
    pages = [search.search("harbour")[start : start + 4] for start in range(0, 9, 4)]
    assert [article for page in pages for article in page] == expected
    assert all(article.search_text for page in pages for article in page)
    assert search.count("harbour") == (9, True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_a_count_beyond_the_cap_is_an_estimate(client, settings, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    ArticleFactory.create_batch(4, published=True, title="Lantern festival")
    ArticleFactory.create_batch(4, published=True, body="<p>The lantern.</p>")
    results_ = search.search("lantern")
    assert len(results_[0:3]) == 3
    total, exact = search.count("lantern", results=results_)
    assert not exact and total > 5
    assert search.count("festival") == (4, True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_snippet_marks_the_forms_of_a_word_and_not_its_lookalikes(client):
    ArticleFactory(
        published=True,
        title="Talks",
        dek="Envoys met.",
        body="<p>The war ended; Sanctioned firms and sanctions, a warning about wards.</p>",
    )
    page = results(client, "wars sanction")
    snippet = page.split('class="search-result__snippet">', 1)[1].split("</p>", 1)[0]
    assert "<mark>war</mark>" in snippet
    assert "<mark>Sanctioned</mark>" in snippet and "<mark>sanctions</mark>" in snippet
    assert "<mark>warning" not in snippet and "<mark>wards" not in snippet


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_results_page_cuts_snippets_without_ts_headline(client):
    from django.test.utils import CaptureQueriesContext

    ArticleFactory(published=True, body="<p>Harbour.</p>")
    with CaptureQueriesContext(connection) as captured:
        results(client, "harbour")
    assert not [q["sql"] for q in captured if "ts_headline" in q["sql"]]


def test_snippet_starts_near_the_first_match(client):
    filler = " ".join(f"word{n}" for n in range(80))
    ArticleFactory(
        published=True, title="Far", dek="A dek.", body=f"<p>{filler} Gyumri at last.</p>"
    )
    page = results(client, "gyumri")
    snippet = page.split('class="search-result__snippet">', 1)[1].split("</p>", 1)[0]
    assert snippet.startswith("…") and "<mark>Gyumri</mark> at last." in snippet
    assert "word0 " not in snippet


def test_snippet_of_a_match_outside_the_excerpt_is_the_start_of_the_text(client):
    ArticleFactory(
        published=True, title="Gyumri diary", dek="Notes from the north.", body="<p>x</p>"
    )
    page = results(client, "gyumri")
    snippet = page.split('class="search-result__snippet">', 1)[1].split("</p>", 1)[0]
    assert snippet.startswith("Notes from the north.")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_an_estimate_is_never_below_the_matches_already_counted(monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    monkeypatch.setattr(search.RankedResults, "estimate", lambda self: 1)
    ArticleFactory.create_batch(8, published=True, title="Lantern festival")
    results_ = search.search("lantern")
    assert len(results_[0:3]) == 3
    assert search.count("lantern", results=results_) == (8, False)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_a_query_of_exclusions_only_finds_nothing_without_reading_every_row(client):
    from django.test.utils import CaptureQueriesContext

    ArticleFactory(published=True, title="Quiet harbour", body="<p>Boats.</p>")
    with CaptureQueriesContext(connection) as captured:
        page = results(client, "-ceasefire")
    assert "No articles match “-ceasefire”" in page
    statement = next(q["sql"] for q in captured if "websearch_to_tsquery" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {statement}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "One-Time Filter: false" in plan
    assert "Quiet harbour" in results(client, "harbour -ceasefire")


def test_an_excluded_word_in_the_body_excludes_a_headline_match(client):
    ArticleFactory(
        published=True, title="Ceasefire holds", dek="Calm.", body="<p>Sanctions stay.</p>"
    )
    ArticleFactory(published=True, title="Ceasefire talks resume", dek="Calm.", body="<p>Met.</p>")
    page = results(client, "ceasefire -sanctions")
    assert "Ceasefire talks resume" in page
    assert "Ceasefire holds" not in page


def test_an_excluded_word_in_the_title_or_dek_excludes_a_body_match(client):
    ArticleFactory(published=True, title="Sanctions bite", dek="x", body="<p>The ceasefire.</p>")
    ArticleFactory(published=True, title="Trade", dek="New sanctions.", body="<p>Ceasefire.</p>")
    ArticleFactory(published=True, title="Quiet north", dek="x", body="<p>The ceasefire.</p>")
    page = results(client, "ceasefire -sanctions")
    assert "Quiet north" in page
    assert "Sanctions bite" not in page and "Trade" not in page
    assert "1 article matches" in page


def test_a_query_of_exclusions_only_finds_nothing(client):
    ArticleFactory(published=True, title="Ceasefire holds")
    ArticleFactory(published=True, title="Quiet harbour")
    assert "No articles match “-ceasefire”" in results(client, "-ceasefire")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_a_word_in_many_headlines_ranks_the_newest_first_then_the_older(monkeypatch):
    monkeypatch.setattr(search, "HEAD_RANKED", 3)
    now = timezone.now()

    def headline(title, days):
        return ArticleFactory(published=True, title=title, publish_at=now - timedelta(days=days))

    # Each pair: the denser headline is the older, so ranking puts it first.
    newest = [headline("Truce", 1), headline("Truce, truce, truce", 2), headline("Truce", 3)]
    older = [headline("Truce", 4), headline("Truce, truce, truce", 5)]
    in_body = ArticleFactory(published=True, body="<p>A truce.</p>", publish_at=now)
    expected = [newest[1], newest[0], newest[2], older[1], older[0], in_body]
    assert list(search.search("truce")) == expected
    pages = [search.search("truce")[start : start + 2] for start in range(0, 6, 2)]
    assert [article for page in pages for article in page] == expected
    assert search.count("truce") == (6, True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_a_word_in_few_headlines_ranks_them_all_whatever_their_age(monkeypatch):
    monkeypatch.setattr(search, "HEAD_RANKED", 3)
    now = timezone.now()
    recent = ArticleFactory(published=True, title="Truce", publish_at=now)
    old = ArticleFactory(
        published=True, title="Truce, truce, truce", publish_at=now - timedelta(days=900)
    )
    assert list(search.search("truce")) == [old, recent]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_a_full_ranking_window_settles_the_count_without_reading_older_headlines(
    monkeypatch,
):
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    monkeypatch.setattr(search, "HEAD_RANKED", 3)
    monkeypatch.setattr(search.RankedResults, "estimate", lambda self: 1)
    ArticleFactory.create_batch(5, published=True, title="Truce")
    results_ = search.search("truce")
    assert len(results_[0:2]) == 2
    assert search.count("truce", results=results_) == (3, False)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
def test_postgres_the_page_statement_is_short_enough_for_psycopg_to_keep_its_parse(client):
    from django.test.utils import CaptureQueriesContext
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH

    ArticleFactory(published=True, title="Harbour strike ends")
    results_ = search.search("harbour")
    where, _ = results_.where()
    for sql in (
        search.page_statement(where, search._current_card()[0]),
        search.DEEP_SQL.format(where=where, weights=search._WEIGHTS_SQL),
    ):
        assert len(sql.encode()) <= MAX_CACHED_STATEMENT_LENGTH
    with CaptureQueriesContext(connection) as captured:
        assert "Harbour strike ends" in results(client, "harbour")
    assert any("search_head" in q["sql"] for q in captured)
