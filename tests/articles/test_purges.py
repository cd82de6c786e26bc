"""What each change purges (articles/signals.py): only what readers could see change."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from articles import services
from articles.models import Article, Rendition
from newsroom.pagecache import Batch
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    EditorFactory,
    ImageFactory,
    NoteFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks, sent_purges):
    """Run `change()` as its own committed transaction; return the purges it sent."""

    def run(change):
        # What the test set up commits first: its purges are not the change's.
        for _, pending, _ in connection.run_on_commit:
            if isinstance(pending, Batch):
                Batch().take(pending)  # which leaves it empty
        sent_purges.clear()
        with django_capture_on_commit_callbacks(execute=True):
            change()
        return sent_purges

    return run


@pytest.fixture
def published():
    article = ArticleFactory(published=True, authors=[AuthorFactory()])
    article.tags.add("elections")
    return article


def test_a_draft_save_purges_nothing(commit):
    draft = ArticleFactory()
    draft.title = "A new working title"
    assert commit(draft.save) == []


def test_an_article_in_review_purges_nothing(commit):
    draft = ArticleFactory()
    assert commit(lambda: services.submit_for_review(article=draft, by=EditorFactory())) == []


def test_a_scheduled_article_purges_nothing_before_its_time(commit):
    draft = ArticleFactory(authors=[AuthorFactory()], lead_image=ImageFactory())
    later = timezone.now() + timedelta(hours=2)
    editor = EditorFactory()
    assert commit(lambda: services.schedule_article(article=draft, at=later, by=editor)) == []


def test_a_new_image_and_its_renditions_purge_nothing(commit):
    def upload():
        image = ImageFactory()
        Rendition.objects.create(image=image, format="jpeg", width=10, height=10, file="x.jpg")

    assert commit(upload) == []


def test_new_authors_and_tags_purge_nothing(commit):
    assert commit(lambda: AuthorFactory()) == []


def test_publishing_purges_the_article_and_the_lists_it_joins(commit):
    author = AuthorFactory()
    draft = ArticleFactory(authors=[author], lead_image=ImageFactory())
    draft.tags.add("climate")
    tag = draft.tags.get()
    editor = EditorFactory()
    (keys,) = commit(lambda: services.publish_article(article=draft, by=editor))
    assert {f"a{draft.pk}", "list", "sitemap", f"list:s{draft.section_id}"} <= keys
    assert {f"list:au{author.pk}", f"list:t{tag.pk}"} <= keys


def test_editing_a_published_article_purges_only_its_pages(commit, published):
    published.title = "A corrected headline"
    (keys,) = commit(published.save)
    assert keys == {f"a{published.pk}", "sitemap"}


def test_unpublishing_marks_the_article_withdrawn(commit, published, sent_purges, monkeypatch):
    marked = []
    monkeypatch.setattr(
        "newsroom.pagecache.store.purge", lambda keys, withdrawn=(): marked.extend(withdrawn)
    )
    commit(lambda: services.unpublish_article(article=published, by=EditorFactory()))
    assert marked == [f"a{published.pk}"]


def test_a_correction_purges_the_article_and_the_corrections_page(commit, published):
    (keys,) = commit(lambda: NoteFactory(article=published))
    assert keys == {f"a{published.pk}", "notes"}


def test_a_note_on_a_draft_purges_nothing(commit):
    draft = ArticleFactory()
    assert commit(lambda: NoteFactory(article=draft)) == []


def test_an_author_edit_purges_the_authors_pages(commit, published):
    author = published.authors.get()
    author.name = "A New Name"
    assert commit(author.save) == [{f"au{author.pk}"}]


def test_a_section_edit_purges_the_section_and_the_navigation(commit):
    section = SectionFactory()
    section.name = "Elsewhere"
    assert commit(section.save) == [{f"s{section.pk}", "nav"}]


def test_an_image_edit_purges_only_when_a_public_page_shows_it(commit):
    unused = ImageFactory()
    unused.caption = "Nobody shows this"
    assert commit(unused.save) == []
    lead = ImageFactory()
    ArticleFactory(published=True, lead_image=lead)
    lead.credit = "Agency/Photographer"
    assert commit(lead.save) == [{f"i{lead.pk}"}]


def test_an_admin_save_of_an_article_with_its_inlines_purges_once(commit, published):
    def save_with_bylines_and_tags():
        published.title = "New"
        published.save()
        published.tags.add("diplomacy")
        published.bylines.create(author=AuthorFactory(), position=5)

    purges = commit(save_with_bylines_and_tags)
    assert len(purges) == 1


def test_an_autosave_purges_nothing(commit, published):
    editor = EditorFactory()
    assert (
        commit(
            lambda: services.autosave_draft(
                article=published,
                values={"title": "Typing…"},
                expected_version=published.version,
                by=editor,
            )
        )
        == []
    )


def test_the_front_page_arranged_purges_the_home_page(commit, published):
    editor = EditorFactory()
    assert commit(lambda: services.put_on_front_page(article=published, by=editor)) == [{"home"}]


def test_a_scheduled_article_appears_on_time_without_a_job(
    client, django_capture_on_commit_callbacks
):
    soon = timezone.now() + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        scheduled = ArticleFactory(
            title="Scheduled scoop", status=Article.Status.SCHEDULED, publish_at=soon
        )
    assert "Scheduled scoop" not in client.get("/").content.decode()
    assert client.get("/")["X-Page-Cache"] == "hit"
    # The hour passes (no save, no signal): the next request must not get the old page.
    Article.objects.filter(pk=scheduled.pk).update(publish_at=timezone.now() - timedelta(seconds=1))
    checked, _next = cache.get("pc:due")
    cache.set("pc:due", (checked - 3600, time.time() - 0.5), timeout=None)
    assert "Scheduled scoop" in client.get("/").content.decode()


def test_a_publication_or_an_edit_of_a_recent_story_leaves_other_article_pages_cached(
    client, commit
):
    elsewhere = SectionFactory()  # not in `older`'s related rail
    older = ArticleFactory(published=True, publish_at=timezone.now() - timedelta(days=3))
    recent = ArticleFactory(published=True, section=elsewhere, authors=[AuthorFactory()])
    assert recent.title in client.get(older.get_absolute_url()).content.decode()  # Latest rail

    def edit_and_publish():
        recent.title = "A recent story, its headline corrected"
        recent.save()
        ArticleFactory(published=True, section=elsewhere)

    commit(edit_and_publish)
    assert client.get(older.get_absolute_url())["X-Page-Cache"] == "hit"


def test_a_withdrawn_story_leaves_every_article_pages_rail_at_once(client, commit):
    older = ArticleFactory(published=True, publish_at=timezone.now() - timedelta(days=3))
    recent = ArticleFactory(published=True, title="A story that is withdrawn")
    assert "A story that is withdrawn" in client.get(older.get_absolute_url()).content.decode()
    commit(lambda: services.unpublish_article(article=recent, by=EditorFactory()))
    assert "A story that is withdrawn" not in client.get(older.get_absolute_url()).content.decode()
