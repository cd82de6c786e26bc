"""The page cache (newsroom/pagecache): what it keeps, under which key, and how a
kept page stops being served. What each change purges is in tests/articles/test_purges.py."""

import gzip
import time
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache as django_cache
from django.db import transaction
from django.http import HttpResponse

from newsroom import pagecache
from newsroom.pagecache import store
from tests.factories import ArticleFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_second_anonymous_request_is_served_from_the_page_cache(client):
    ArticleFactory(published=True)
    assert client.get("/")["X-Page-Cache"] == "miss"
    assert client.get("/")["X-Page-Cache"] == "hit"


def test_public_pages_send_cache_control_for_a_cdn(client, settings):
    settings.CACHE_PAGE_SECONDS = 300
    response = client.get("/")
    cache_control = response["Cache-Control"]
    assert "public" in cache_control
    assert "s-maxage=300" in cache_control
    assert "stale-while-revalidate=" in cache_control
    assert response.has_header("ETag") and response.has_header("Last-Modified")


def test_conditional_get_with_the_etag_answers_304(client):
    ArticleFactory(published=True)
    etag = client.get("/")["ETag"]
    response = client.get("/", headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""


def test_conditional_get_with_a_gzip_weakened_etag_answers_304(client):
    ArticleFactory(published=True)
    etag = client.get("/", headers={"accept-encoding": "gzip"})["ETag"]
    assert etag.startswith("W/")
    response = client.get("/", headers={"if-none-match": etag, "accept-encoding": "gzip"})
    assert response.status_code == 304


def test_conditional_get_with_last_modified_answers_304(client):
    last_modified = client.get("/")["Last-Modified"]
    response = client.get("/", headers={"if-modified-since": last_modified})
    assert response.status_code == 304


def test_stale_etag_gets_the_full_page(client):
    response = client.get("/", headers={"if-none-match": '"not-the-etag"'})
    assert response.status_code == 200


def test_staff_bypass_the_page_cache(client):
    ArticleFactory(published=True)
    client.get("/")
    client.force_login(StaffFactory())
    response = client.get("/")
    assert "X-Page-Cache" not in response
    assert "private" in response["Cache-Control"]


def test_anyone_with_a_session_cookie_bypasses_the_page_cache(client, reader_with_session):
    client.get("/")
    response = reader_with_session.get("/")
    assert "X-Page-Cache" not in response
    assert "public" not in response["Cache-Control"]


def test_not_found_pages_are_not_cached(client):
    client.get("/section/missing/")
    assert client.get("/section/missing/").get("X-Page-Cache") is None


def test_a_cache_hit_replays_the_stored_headers_and_etag(client):
    ArticleFactory(published=True)
    miss = client.get("/")
    hit = client.get("/")
    assert hit["X-Page-Cache"] == "hit"
    assert hit["ETag"] == miss["ETag"] and hit["Content-Type"] == miss["Content-Type"]
    assert hit["Cache-Control"] == miss["Cache-Control"]
    assert hit.content == miss.content


def test_readers_who_accept_gzip_get_the_page_compressed_once_and_kept_so(client):
    ArticleFactory(published=True, title="A story worth compressing")
    first = client.get("/", headers={"accept-encoding": "gzip"})
    hit = client.get("/", headers={"accept-encoding": "gzip"})
    assert (first["X-Page-Cache"], hit["X-Page-Cache"]) == ("miss", "hit")
    assert hit["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in hit["Vary"]
    assert hit.content == first.content
    assert "A story worth compressing" in gzip.decompress(hit.content).decode()


def test_plain_and_gzip_readers_get_separate_copies(client):
    ArticleFactory(published=True)
    client.get("/", headers={"accept-encoding": "gzip"})
    plain = client.get("/")
    assert plain["X-Page-Cache"] == "miss"
    assert not plain.has_header("Content-Encoding")
    assert client.get("/")["X-Page-Cache"] == "hit"


def test_a_hit_skips_the_middleware_below_the_page_cache(client):
    ArticleFactory(published=True)
    client.get("/")
    with mock.patch(
        "django.contrib.sessions.middleware.SessionMiddleware.process_request"
    ) as sessions:
        assert client.get("/")["X-Page-Cache"] == "hit"
    sessions.assert_not_called()


def test_a_hit_keeps_the_headers_the_middleware_below_added(client):
    ArticleFactory(published=True)
    miss = client.get("/")
    hit = client.get("/")
    for header in ("X-Frame-Options", "Content-Security-Policy", "Vary", "Content-Length"):
        assert hit.get(header) == miss.get(header), header


def test_a_page_whose_response_sets_a_cookie_is_never_shared(rf):
    def set_cookie(request):
        response = HttpResponse("<p>for one reader</p>")
        response.set_cookie("greeting", "hello")
        return response

    request = rf.get("/")
    request.user = AnonymousUser()
    response = pagecache.cached_page(set_cookie)(request)
    assert "xkey" not in response and "public" not in response.get("Cache-Control", "")


def test_only_the_query_parameters_a_page_reads_make_a_new_copy(client, kept_pages):
    ArticleFactory(published=True)
    assert client.get("/")["X-Page-Cache"] == "miss"
    for junk in ("?utm_source=newsletter", "?junk=1", "?junk=2&utm_campaign=x"):
        assert client.get("/" + junk)["X-Page-Cache"] == "hit", junk
    assert len(kept_pages) == 1  # nothing new was stored
    assert client.get("/?page=1")["X-Page-Cache"] == "miss"  # a parameter it reads


def test_the_host_and_scheme_are_part_of_the_key(client, settings):
    settings.ALLOWED_HOSTS = ["news.example.com", "other.example.com"]
    ArticleFactory(published=True)
    assert client.get("/", HTTP_HOST="news.example.com")["X-Page-Cache"] == "miss"
    assert client.get("/", HTTP_HOST="other.example.com")["X-Page-Cache"] == "miss"
    assert client.get("/", HTTP_HOST="news.example.com", secure=True)["X-Page-Cache"] == "miss"
    assert client.get("/", HTTP_HOST="news.example.com")["X-Page-Cache"] == "hit"


def test_a_disallowed_host_gets_400_even_for_a_kept_page(client, settings):
    settings.ALLOWED_HOSTS = ["news.example.com"]
    client.get("/", HTTP_HOST="news.example.com")
    assert client.get("/", HTTP_HOST="news.example.com")["X-Page-Cache"] == "hit"
    assert client.get("/", HTTP_HOST="evil.example.net").status_code == 400


def test_pages_carry_their_dependency_keys_for_http_caches(client):
    article = ArticleFactory(published=True)
    response = client.get(article.get_absolute_url())
    keys = set(response["xkey"].split())
    assert {"all", "nav", f"a{article.pk}", f"s{article.section_id}"} <= keys
    assert response["Surrogate-Key"] == response["xkey"]
    assert set(response["Cache-Tag"].split(",")) == keys


def test_a_purge_stales_only_the_pages_that_carry_the_key(client):
    one, other = ArticleFactory(published=True), ArticleFactory(published=True)
    other.tags.add("fisheries")
    client.get(one.get_absolute_url())
    client.get("/tag/fisheries/")
    pagecache.purge({f"a{one.pk}"})
    assert client.get(one.get_absolute_url())["X-Page-Cache"] == "miss"
    assert client.get("/tag/fisheries/")["X-Page-Cache"] == "hit"


def test_a_page_rendered_while_a_purge_happened_is_not_fresh(settings):
    settings.PAGE_CACHE_CLOCK_SKEW_SECONDS = 0.1
    started = time.time() - 100
    names = iter(range(1, 100))

    def is_fresh(purged_at=None, fresh_until=started + 1000):
        """Whether a kept copy rendered at `started` is fresh when the article it shows
        was purged at `purged_at`."""
        key = f"a{next(names)}"
        if purged_at is not None:
            django_cache.set(f"pc:mark:{key}", purged_at)
        django_cache.set(store.PAGE.format(key), store.Entry(started, fresh_until, (key,), {}, b""))
        return store.lookup(key)[1]

    assert is_fresh()
    assert not is_fresh(purged_at=started + 0.05)  # within the clock skew
    assert is_fresh(purged_at=started - 1)
    assert not is_fresh(fresh_until=time.time() - 1)


def test_a_transaction_purges_once_with_every_key(sent_purges, transactional_db):
    with transaction.atomic():
        pagecache.purge_on_commit({"a1"})
        with transaction.atomic():
            pagecache.purge_on_commit({"a2"})
        pagecache.purge_on_commit({"list"})
        assert sent_purges == []
    assert sent_purges == [{"a1", "a2", "list"}]


def test_a_rolled_back_transaction_purges_nothing(sent_purges, transactional_db):
    with pytest.raises(RuntimeError), transaction.atomic():
        pagecache.purge_on_commit({"a1"})
        raise RuntimeError
    assert sent_purges == []


def test_keys_asked_for_outside_a_rolled_back_savepoint_are_still_purged(
    sent_purges, transactional_db
):
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            pagecache.purge_on_commit({"a1"})
            raise RuntimeError
        pagecache.purge_on_commit({"a2"})
    assert len(sent_purges) == 1 and "a2" in sent_purges[0]


def test_the_schedule_purges_what_came_due_at_its_moment(client, monkeypatch):
    ArticleFactory(published=True)
    client.get("/")
    calls = []

    class Due:
        def came_due(self, since, until):
            calls.append((since, until))
            return {"list"}

        def next_after(self, moment):
            return None

    monkeypatch.setattr(store, "_schedules", [Due()])
    django_cache.set("pc:due", (time.time() - 5, time.time() - 1), timeout=None)
    assert client.get("/")["X-Page-Cache"] == "miss"
    assert calls and client.get("/")["X-Page-Cache"] == "hit"


def test_a_workers_memory_keeps_to_its_byte_budget(settings):
    settings.PAGE_CACHE_LOCAL_BYTES = 1000
    pages = store.LocalPages()
    for n in range(10):
        pages.put(str(n), store.Entry(0, 1, (), {}, b"x" * 200), seen=0)
    assert pages.size <= 1000
    assert pages.get("9") is not None and pages.get("0") is None


def test_a_worker_serves_a_hot_page_from_its_own_memory_judged_by_the_shared_marks(client):
    article = ArticleFactory(published=True)
    client.get(article.get_absolute_url())
    django_cache.clear()  # the shared copy is gone: only this worker's memory has it
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "hit"
    pagecache.purge({f"a{article.pk}"})
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "miss"


def test_every_page_renders_with_the_dummy_cache(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    article = ArticleFactory(published=True)
    for url in ("/", article.get_absolute_url(), "/feed/", "/sitemap.xml", "/search/?q=story"):
        first, second = client.get(url), client.get(url)
        assert first.status_code == second.status_code == 200, url
        assert second["X-Page-Cache"] == "miss", url


def test_a_cache_that_fails_costs_readers_nothing(client, monkeypatch):
    article = ArticleFactory(published=True)

    def broken(*args, **kwargs):
        raise ConnectionError("the cache went away")

    for name in ("get", "get_many", "set", "set_many"):
        monkeypatch.setattr(django_cache, name, broken)
    assert client.get(article.get_absolute_url()).status_code == 200
    assert client.get("/").status_code == 200


def test_a_hot_page_costs_one_small_read_while_nothing_is_purged(client, monkeypatch):
    article = ArticleFactory(published=True)
    client.get(article.get_absolute_url())
    client.get(article.get_absolute_url())
    reads = []
    get_many = django_cache.get_many
    monkeypatch.setattr(django_cache, "get_many", lambda keys: reads.append(keys) or get_many(keys))
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "hit"
    assert reads == [["pc:due", "pc:purges"]]
    pagecache.purge({"a-page-nobody-shows"})
    reads.clear()
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "hit"
    # The purge's keys are read; this page's marks are not: it shows none of them.
    assert len(reads) == 2 and reads[1][0].startswith("pc:purged:"), reads


def as_another_worker(purge):
    """Run `purge` as another worker would: this worker does not hear of it at once."""
    read_at = store.local_pages.head_read_at
    purge()
    store.local_pages.head_read_at = read_at


def test_a_worker_asks_whether_anything_was_purged_at_most_every_check_time(
    client, settings, monkeypatch
):
    settings.PAGE_CACHE_CHECK_SECONDS = 60
    article = ArticleFactory(published=True)
    client.get(article.get_absolute_url())
    client.get(article.get_absolute_url())
    reads = []
    get_many = django_cache.get_many
    monkeypatch.setattr(django_cache, "get_many", lambda keys: reads.append(keys) or get_many(keys))
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "hit"
    assert reads == []  # a hot page within the check time: no cache read at all
    as_another_worker(lambda: pagecache.purge({f"a{article.pk}"}))
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "hit"
    store.local_pages.head_read_at = time.monotonic() - 61  # the check time passes
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "miss"
    # This worker's own purge is seen at once.
    client.get(article.get_absolute_url())
    pagecache.purge({f"a{article.pk}"})
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "miss"


def test_after_a_purge_a_worker_drops_only_the_pages_showing_its_keys_in_one_read(
    client, settings, monkeypatch
):
    settings.PAGE_CACHE_CHECK_SECONDS = 60
    first, second = ArticleFactory(published=True), ArticleFactory(published=True)
    for article in (first, second, first, second):  # both kept and judged clean
        client.get(article.get_absolute_url())
    reads = []
    get_many = django_cache.get_many
    monkeypatch.setattr(django_cache, "get_many", lambda keys: reads.append(keys) or get_many(keys))

    as_another_worker(lambda: pagecache.purge({"a-page-nobody-shows"}))
    as_another_worker(lambda: pagecache.purge({f"a{second.pk}"}))
    store.forget_head()
    assert client.get(first.get_absolute_url())["X-Page-Cache"] == "hit"
    assert len(reads) == 2 and len(reads[1]) == 2  # the count, then both purges' keys
    assert not any("pc:mark" in name for keys in reads for name in keys)
    assert client.get(second.get_absolute_url())["X-Page-Cache"] == "miss"


@pytest.mark.parametrize(
    "lose_track",
    [
        lambda number: django_cache.delete(store.PURGED.format(number)),  # the log expired
        lambda number: django_cache.set(store.PURGES, number + store.PURGES_HELD + 1),
        lambda number: django_cache.clear(),  # the cache was emptied and counts anew
    ],
    ids=["a purge missing from the log", "more purges than a worker reads", "a new count"],
)
def test_a_worker_that_cannot_tell_what_was_purged_drops_every_page(client, lose_track):
    pages = [ArticleFactory(published=True) for _ in range(2)]
    for article in pages * 2:
        client.get(article.get_absolute_url())
    pagecache.purge({"a-page-nobody-shows"})
    store.local_pages.read_head()  # taken in: nothing dropped
    assert len(store.local_pages.pages) == 2
    as_another_worker(lambda: pagecache.purge({"another-page-nobody-shows"}))
    lose_track(django_cache.get(store.PURGES))
    store.forget_head()
    store.local_pages.read_head()
    assert not store.local_pages.pages


def test_a_page_rendered_across_a_purge_does_not_stay_in_a_workers_memory(settings):
    pages = store.LocalPages()
    pages.take_in(0)
    django_cache.set(store.PURGED.format(1), ["a1"])
    pages.take_in(1)
    pages.put("one", store.Entry(0, time.time() + 60, ("a1",), {}, b""), seen=0)
    pages.put("two", store.Entry(0, time.time() + 60, ("a2",), {}, b""), seen=0)
    assert pages.get("one") is None and pages.get("two") is not None
