import gzip
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache as django_cache
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from articles import cache
from articles.models import Article
from articles.services import publish_article
from tests.factories import ArticleFactory, AuthorFactory, ImageFactory, StaffFactory

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


def test_published_article_shows_on_the_listing_at_the_next_request(
    client, django_capture_on_commit_callbacks
):
    editor = StaffFactory(is_superuser=True)
    draft = ArticleFactory(
        title="Breaking: the ceasefire holds",
        dek="A dek.",
        lead_image=ImageFactory(),
        authors=[AuthorFactory()],
    )
    assert "Breaking" not in client.get("/").content.decode()
    assert client.get("/")["X-Page-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        publish_article(article=draft, by=editor)
    assert "Breaking: the ceasefire holds" in client.get("/").content.decode()


def test_editing_an_author_invalidates_pages(client, django_capture_on_commit_callbacks):
    author = AuthorFactory(name="Old Name")
    article = ArticleFactory(published=True, authors=[author])
    assert "Old Name" in client.get(article.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        author.name = "New Name"
        author.save()
    assert "New Name" in client.get(article.get_absolute_url()).content.decode()


def test_scheduled_article_appears_when_it_comes_due(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        scheduled = ArticleFactory(
            title="Scheduled scoop",
            status=Article.Status.SCHEDULED,
            publish_at=timezone.now() + timedelta(hours=1),
        )
    assert "Scheduled scoop" not in client.get("/").content.decode()
    assert client.get("/")["X-Page-Cache"] == "hit"
    # The hour passes (no save, no signal): the next request must not get the old page.
    Article.objects.filter(pk=scheduled.pk).update(publish_at=timezone.now() - timedelta(seconds=1))
    state = cache.current_state()
    django_cache.set(cache.STATE_KEY, state | {"due": time.time() - 1}, timeout=None)
    assert "Scheduled scoop" in client.get("/").content.decode()


def test_state_remembers_the_next_scheduled_publish_time(django_capture_on_commit_callbacks):
    due = timezone.now() + timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        ArticleFactory(status=Article.Status.SCHEDULED, publish_at=due)
        ArticleFactory(status=Article.Status.DRAFT, publish_at=timezone.now() + timedelta(hours=1))
    assert cache.current_state()["due"] == pytest.approx(due.timestamp())


def test_staff_bypass_the_page_cache(client):
    ArticleFactory(published=True)
    client.get("/")
    client.force_login(StaffFactory())
    response = client.get("/")
    assert "X-Page-Cache" not in response
    assert "private" in response["Cache-Control"]


def test_anyone_with_a_session_cookie_bypasses_the_page_cache(client, settings):
    client.get("/")
    client.cookies[settings.SESSION_COOKIE_NAME] = "some-session"
    response = client.get("/")
    assert "X-Page-Cache" not in response
    assert "public" not in response["Cache-Control"]


def test_not_found_pages_are_not_cached(client):
    client.get("/section/missing/")
    assert client.get("/section/missing/").get("X-Page-Cache") is None


def test_pages_differ_by_query_string(client):
    ArticleFactory.create_batch(21, published=True)
    client.get("/")
    assert client.get("/?page=2")["X-Page-Cache"] == "miss"


def test_a_worker_trusts_the_generation_it_read_for_the_memo_time(settings):
    settings.PAGE_STATE_MEMO_SECONDS = 60
    remembered = cache.current_state()
    django_cache.set(cache.STATE_KEY, remembered | {"generation": 1}, timeout=None)
    assert cache.current_state()["generation"] == remembered["generation"]


def test_the_generation_is_read_again_once_the_memo_time_is_over(settings):
    settings.PAGE_STATE_MEMO_SECONDS = 60
    cache.current_state()
    settings.PAGE_STATE_MEMO_SECONDS = 0
    django_cache.set(cache.STATE_KEY, cache.current_state() | {"generation": 1}, timeout=None)
    assert cache.current_state()["generation"] == 1


def test_an_invalidation_in_this_worker_is_seen_at_once_despite_the_memo(client, settings):
    settings.PAGE_STATE_MEMO_SECONDS = 60
    ArticleFactory(published=True, title="First story")
    assert client.get("/")["X-Page-Cache"] == "miss"
    ArticleFactory(published=True, title="Second story")
    cache.invalidate()
    response = client.get("/")
    assert response["X-Page-Cache"] == "miss" and "Second story" in response.content.decode()


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


def test_a_worker_serves_a_hot_page_from_its_own_memory(client):
    ArticleFactory(published=True)
    client.get("/")
    key = cache.page_key(RequestFactory().get("/"), cache.current_state())
    assert django_cache.get(key) is not None
    django_cache.delete(key)  # gone from the shared cache, still in this worker
    assert client.get("/")["X-Page-Cache"] == "hit"


def test_a_new_generation_empties_the_workers_memory(client):
    ArticleFactory(published=True)
    client.get("/")
    cache.invalidate()
    assert client.get("/")["X-Page-Cache"] == "miss"


def test_a_page_whose_response_sets_a_cookie_is_never_kept(client):
    ArticleFactory(published=True)

    def set_cookie(request):
        response = HttpResponse("<p>for one reader</p>" * 20)
        response.set_cookie("greeting", "hello")
        return response

    view = cache.cached_page(set_cookie)
    middleware = cache.PageCacheMiddleware(view)
    request = RequestFactory().get("/cookie/")
    request.COOKIES = {}
    request.user = AnonymousUser()
    middleware(request)
    assert middleware(request).get("X-Page-Cache") != "hit"


def test_the_workers_memory_keeps_to_its_byte_budget(settings):
    settings.PAGE_CACHE_LOCAL_BYTES = 1000
    pages = cache.LocalPages()
    for number in range(10):
        pages.put(f"page-{number}", 1, (b"x" * 200, 200, ()))
    assert pages.get("page-0", 1) is None
    assert pages.get("page-9", 1) is not None
    assert pages._bytes <= 1000
    pages.put("too-big", 1, (b"x" * 600, 200, ()))
    assert pages.get("too-big", 1) is None


def test_the_workers_memory_forgets_pages_after_the_cache_timeout(settings):
    settings.CACHE_PAGE_SECONDS = 0
    pages = cache.LocalPages()
    pages.put("page", 1, (b"x", 200, ()))
    assert pages.get("page", 1) is None


def test_a_worker_keeps_no_pages_in_memory_when_its_budget_is_zero(client, settings):
    settings.PAGE_CACHE_LOCAL_BYTES = 0
    ArticleFactory(published=True)
    client.get("/")
    django_cache.delete(cache.page_key(RequestFactory().get("/"), cache.current_state()))
    assert client.get("/")["X-Page-Cache"] == "miss"


def test_a_kept_part_is_built_once_per_generation_and_served_from_memory(monkeypatch):
    built = []

    def build():
        built.append(1)
        return "<p>part</p>"

    assert cache.kept("part", build, size=len) == "<p>part</p>"
    shared_get = django_cache.get
    monkeypatch.setattr(  # the shared cache has lost every kept part (not the state)
        django_cache,
        "get",
        lambda key, *args, **kwargs: (
            None if key.startswith("kept:") else shared_get(key, *args, **kwargs)
        ),
    )
    assert cache.kept("part", build, size=len) == "<p>part</p>"
    assert len(built) == 1  # served from this worker's memory
    cache.invalidate()
    cache.kept("part", build, size=len)
    assert len(built) == 2  # a new generation builds it again


def test_nothing_is_kept_for_a_lookup_that_found_nothing():
    calls = []
    assert cache.kept_object("missing", lambda: calls.append(1)) is None
    assert cache.kept_object("missing", lambda: calls.append(1)) is None
    assert len(calls) == 2
