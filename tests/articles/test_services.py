from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from reversion.models import Version
from taggit.models import Tag

from articles import services
from articles.models import Article, Note
from tests.factories import ArticleFactory, ContributorFactory, EditorFactory, ImageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    return EditorFactory()


def ready(**kwargs):
    return ArticleFactory(lead_image=ImageFactory(), **kwargs)


def test_publish_makes_the_article_public_now(editor):
    article = services.publish_article(article=ready(), by=editor)
    assert article.status == Article.Status.PUBLISHED
    assert article.is_public
    assert article.first_published_at == article.publish_at


def test_publish_refuses_an_article_failing_the_checklist(editor):
    article = ArticleFactory(dek="")
    with pytest.raises(services.PublishingError) as error:
        services.publish_article(article=article, by=editor)
    assert "Write a dek or an SEO description." in error.value.messages
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_publish_refuses_a_lead_image_without_alt_text(editor):
    article = ArticleFactory(lead_image=ImageFactory(alt_text=""))
    with pytest.raises(services.PublishingError, match="alt text"):
        services.publish_article(article=article, by=editor)


def test_contributor_cannot_publish():
    with pytest.raises(PermissionDenied):
        services.publish_article(article=ready(), by=ContributorFactory())


def test_contributor_cannot_schedule():
    with pytest.raises(PermissionDenied):
        services.schedule_article(
            article=ready(), at=timezone.now() + timedelta(days=1), by=ContributorFactory()
        )


def test_schedule_sets_the_time_and_status(editor):
    at = timezone.now() + timedelta(days=1)
    article = services.schedule_article(article=ready(), at=at, by=editor)
    assert (article.status, article.publish_at) == (Article.Status.SCHEDULED, at)
    assert not article.is_public


def test_schedule_refuses_a_time_in_the_past(editor):
    with pytest.raises(ValidationError, match="future"):
        services.schedule_article(
            article=ready(), at=timezone.now() - timedelta(minutes=1), by=editor
        )


def test_schedule_runs_the_checklist(editor):
    with pytest.raises(services.PublishingError):
        services.schedule_article(
            article=ArticleFactory(authors=[]), at=timezone.now() + timedelta(days=1), by=editor
        )


def test_unpublish_takes_the_article_off_the_site(editor):
    article = ready(published=True)
    article = services.unpublish_article(article=article, by=editor)
    assert article.status == Article.Status.DRAFT
    assert not Article.objects.published().exists()
    assert article.first_published_at is not None


def test_republishing_keeps_the_original_date(editor):
    article = ready(published=True)
    original = article.publish_at
    services.unpublish_article(article=article, by=editor)
    article = services.publish_article(article=article, by=editor)
    assert article.publish_at == original


def test_unscheduling_forgets_a_publication_that_never_happened(editor):
    article = services.schedule_article(
        article=ready(), at=timezone.now() + timedelta(days=1), by=editor
    )
    article = services.unpublish_article(article=article, by=editor)
    assert article.first_published_at is None


def test_contributor_submits_own_draft_for_review():
    contributor = ContributorFactory()
    article = ArticleFactory(created_by=contributor)
    article = services.submit_for_review(article=article, by=contributor)
    assert article.status == Article.Status.REVIEW


def test_contributor_cannot_submit_someone_elses_draft():
    with pytest.raises(PermissionDenied):
        services.submit_for_review(article=ArticleFactory(), by=ContributorFactory())


def test_workflow_steps_keep_a_revision_with_who_and_why(editor):
    article = services.publish_article(article=ready(), by=editor)
    version = Version.objects.get_for_object(article).first()
    assert version.revision.user == editor
    assert version.revision.comment == "Published."


def test_note_moves_the_updated_time():
    article = ArticleFactory(published=True)
    at = timezone.now()
    services.add_note(article=article, kind=Note.Kind.CORRECTION, text="Fixed a date.", at=at)
    article.refresh_from_db()
    assert article.updated_at == at


def test_older_note_does_not_move_updated_time_back():
    article = ArticleFactory(published=True, updated_at=timezone.now())
    services.add_note(
        article=article, kind=Note.Kind.UPDATE, text="Older.", at=timezone.now() - timedelta(days=2)
    )
    updated = Article.objects.get(pk=article.pk).updated_at
    assert updated == article.updated_at


def test_note_on_an_unpublished_article_is_refused():
    with pytest.raises(ValidationError):
        services.add_note(article=ArticleFactory(), kind=Note.Kind.UPDATE, text="Too early.")


def test_save_article_records_the_old_slug_of_a_published_article(editor):
    article = ArticleFactory(published=True, slug="first-slug")
    article.slug = "second-slug"
    services.save_article(article=article, by=editor, old_slug="first-slug")
    assert list(article.old_slugs.values_list("slug", flat=True)) == ["first-slug"]


def test_save_article_does_not_record_slugs_of_drafts(editor):
    article = ArticleFactory(slug="draft-slug")
    article.slug = "other"
    services.save_article(article=article, by=editor, old_slug="draft-slug")
    assert not article.old_slugs.exists()


def test_lock_for_edit_refuses_an_outdated_version():
    article = ArticleFactory()
    article.save()
    with pytest.raises(services.EditConflict):
        services.lock_for_edit(pk=article.pk, expected_version=1)


def test_merge_tags_moves_articles_and_deletes_the_others():
    first, second, both = ArticleFactory(), ArticleFactory(), ArticleFactory()
    first.tags.add("Ukraine")
    second.tags.add("Ukraine war")
    both.tags.add("Ukraine", "Ukraine war")
    keep, merge = Tag.objects.get(name="Ukraine"), Tag.objects.get(name="Ukraine war")
    services.merge_tags(tags=[keep, merge], into=keep)
    assert not Tag.objects.filter(pk=merge.pk).exists()
    for article in (first, second, both):
        assert list(article.tags.names()) == ["Ukraine"]
