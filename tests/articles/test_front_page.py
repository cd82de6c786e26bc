"""The curated front page: a lead and ordered featured stories, then the latest stream."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.dependencies import Schedule
from articles.models import FrontPageStory
from newsroom.pagecache import store
from tests.articles.test_query_budgets import build_site, within_budgets
from tests.factories import ArticleFactory, ContributorFactory, EditorFactory

pytestmark = pytest.mark.django_db

SCREEN = "/admin/articles/frontpagestory/"


def card_titles(html):
    return re.findall(r'<h2 id="teaser-\d+"><a [^>]*>([^<]+)</a>', html)


def place(*articles, expires_at=None):
    for position, article in enumerate(articles):
        FrontPageStory.objects.create(article=article, position=position, expires_at=expires_at)


def stories(count):
    now = timezone.now()
    return [
        ArticleFactory(published=True, title=f"Story {n}", publish_at=now - timedelta(hours=n))
        for n in range(count)
    ]


def test_the_chosen_lead_and_featured_stories_come_first_in_their_order(client):
    _newest, _second, third, oldest = stories(4)
    place(oldest, third)
    html = client.get("/").content.decode()
    assert card_titles(html) == ["Story 3", "Story 2", "Story 0", "Story 1"]
    assert re.search(rf'class="teaser lead-story"[^>]*aria-labelledby="teaser-{oldest.pk}"', html)


def test_a_featured_story_is_not_repeated_in_the_stream_on_any_page(client, settings):
    articles = stories(25)
    place(articles[3])
    first = card_titles(client.get("/").content.decode())
    second = card_titles(client.get("/?page=2").content.decode())
    everything = first + second
    assert everything.count("Story 3") == 1
    assert sorted(everything) == sorted(f"Story {n}" for n in range(25))


@pytest.mark.parametrize(
    "chosen",
    [
        (0, 1, 2, 3, 4, 5, 6),  # the newest, as editors usually pick
        (44, 43, 20, 21, 22, 7, 0),  # the oldest, a run deep in the archive, one new
        (10, 11, 12, 13, 14, 15, 16),  # a page's worth in a row
        (30,),
        (),
    ],
)
def test_the_stream_leaves_out_the_front_page_wherever_its_stories_lie(client, chosen):
    """Page after page, the stream is every other public story newest first, whether the
    chosen ones are new, deep in the archive or share their publication time."""
    now = timezone.now().replace(microsecond=0)
    # Two stories per moment: equal times are ordered by key, as the listing orders them.
    articles = [
        ArticleFactory(published=True, title=f"Story {n}", publish_at=now - timedelta(hours=n // 2))
        for n in range(45)
    ]
    place(*(articles[n] for n in chosen))
    newest_first = sorted(articles, key=lambda a: (a.publish_at, a.pk), reverse=True)
    stream = [a.title for a in newest_first if a.title not in {f"Story {n}" for n in chosen}]
    html = client.get("/").content.decode()
    shown = card_titles(html)[len(chosen) :]
    page = 2
    while 'rel="next"' in html:
        html = client.get(f"/?page={page}").content.decode()
        shown += card_titles(html)
        page += 1
    assert shown == stream
    assert client.get(f"/?page={page}").status_code == 404


def test_an_expired_story_drops_back_into_the_stream(client):
    _newest, older = stories(2)
    place(older, expires_at=timezone.now() - timedelta(minutes=1))
    assert card_titles(client.get("/").content.decode()) == ["Story 0", "Story 1"]


def test_the_page_cache_schedule_knows_when_a_story_expires():
    (article,) = stories(1)
    expiry = timezone.now() + timedelta(hours=2)
    place(article, expires_at=expiry)
    assert Schedule().next_after(time.time()) == pytest.approx(expiry.timestamp())


def test_an_unpublished_story_leaves_the_front_page(client):
    lead, _other = stories(2)
    place(lead)
    lead.status = "draft"
    lead.save()
    assert card_titles(client.get("/").content.decode()) == ["Story 1"]


def test_the_home_page_has_a_latest_rail(client):
    stories(3)
    html = client.get("/").content.decode()
    rail = html.split('<aside class="rail"', 1)[1].split("</aside>", 1)[0]
    assert "Latest" in rail and rail.index("Story 0") < rail.index("Story 2")


@pytest.mark.parametrize("n", [1, 10])
def test_a_curated_home_page_keeps_the_listing_query_budget(
    reader_with_session, django_assert_max_num_queries, settings, n
):
    build_site(n)
    featured = ArticleFactory.create_batch(1 + settings.FRONT_PAGE_FEATURED, published=True)
    place(*featured)
    store.next_moment()
    within_budgets(reader_with_session, "/", django_assert_max_num_queries)


# The admin screen.


def form_data(html):
    """The fields the front-page screen renders, with their values (as a browser sends)."""
    data = {}
    for name, value in re.findall(
        r'<input type="(?:hidden|number|text)" name="([^"]+)"(?: value="([^"]*)")?', html
    ):
        data[name] = value
    for name, value in re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', html):
        data.setdefault(name, value)
    for name, selected in re.findall(
        r'<select name="([^"]+)"[^>]*>(?:.*?<option value="(\d+)" selected>)?', html, re.S
    ):
        data[name] = selected
    data.pop("csrfmiddlewaretoken", None)
    return data


@pytest.fixture
def editor_client(client):
    client.force_login(EditorFactory())
    return client


def test_an_editor_sets_the_lead_from_the_front_page_screen(
    editor_client, client, django_capture_on_commit_callbacks
):
    _newest, older = stories(2)
    html = editor_client.get(SCREEN).content.decode()
    data = form_data(html)
    data.update({"form-0-article": older.pk, "form-0-position": "0"})
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(SCREEN, {**data, "_save": "1"})
    assert response.status_code == 302
    assert list(FrontPageStory.objects.values_list("article_id", flat=True)) == [older.pk]
    assert card_titles(client.get("/").content.decode())[0] == "Story 1"


def test_an_unchanged_save_of_the_screen_changes_nothing(editor_client):
    articles = stories(3)
    place(articles[2], articles[0])
    before = list(FrontPageStory.objects.values_list("article_id", "position", "expires_at"))
    data = form_data(editor_client.get(SCREEN).content.decode())
    response = editor_client.post(SCREEN, {**data, "_save": "1"})
    assert response.status_code == 302
    after = list(FrontPageStory.objects.values_list("article_id", "position", "expires_at"))
    assert after == before


def test_the_positions_typed_without_javascript_set_the_order(editor_client):
    articles = stories(3)
    place(articles[0], articles[1], articles[2])
    data = form_data(editor_client.get(SCREEN).content.decode())
    data.update({"form-0-position": "2", "form-1-position": "0", "form-2-position": "1"})
    editor_client.post(SCREEN, {**data, "_save": "1"})
    order = list(FrontPageStory.objects.order_by("position").values_list("article_id", flat=True))
    assert order == [articles[1].pk, articles[2].pk, articles[0].pk]


def test_preview_shows_the_arrangement_without_saving_it(editor_client):
    _newest, older = stories(2)
    data = form_data(editor_client.get(SCREEN).content.decode())
    data.update({"form-0-article": older.pk, "form-0-position": "0"})
    html = editor_client.post(SCREEN, {**data, "_preview": "1"}).content.decode()
    assert "Preview (not saved)" in html
    lead = html.split('class="front-page__preview-lead">', 1)[1].split("<", 1)[0]
    assert lead == "Story 1"
    assert not FrontPageStory.objects.exists()


def test_a_draft_cannot_go_on_the_front_page(editor_client):
    draft = ArticleFactory(title="Not ready")
    data = form_data(editor_client.get(SCREEN).content.decode())
    data.update({"form-0-article": draft.pk, "form-0-position": "0"})
    response = editor_client.post(SCREEN, {**data, "_save": "1"})
    assert response.status_code == 200
    assert "Only a published or scheduled article" in response.content.decode()
    assert not FrontPageStory.objects.exists()


def test_a_contributor_cannot_open_the_front_page_screen(client):
    client.force_login(ContributorFactory())
    assert client.get(SCREEN).status_code == 403


def test_the_article_list_action_makes_an_article_the_lead(editor_client):
    newest, older = stories(2)
    place(newest)
    response = editor_client.post(
        "/admin/articles/article/",
        {"action": "put_on_front_page_as_lead", "_selected_action": [older.pk]},
    )
    assert response.status_code == 302
    order = list(FrontPageStory.objects.order_by("position").values_list("article_id", flat=True))
    assert order == [older.pk, newest.pk]
