from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from articles.models import Article, Image, OldSlug
from tests.factories import ArticleFactory, ImageFactory, SectionFactory, UserFactory

pytestmark = pytest.mark.django_db


def ready_article(**kwargs):
    return ArticleFactory(lead_image=ImageFactory(), **kwargs)


def test_published_includes_published_articles_in_the_past():
    article = ArticleFactory(published=True)
    assert list(Article.objects.published()) == [article]


def test_scheduled_article_becomes_public_at_its_time_without_a_job():
    at = timezone.now() + timedelta(hours=1)
    article = ArticleFactory(status=Article.Status.SCHEDULED, publish_at=at)
    assert not Article.objects.published().exists()
    assert list(Article.objects.published(now=at + timedelta(seconds=1))) == [article]


def test_drafts_and_reviews_are_never_public():
    past = timezone.now() - timedelta(days=1)
    ArticleFactory(status=Article.Status.DRAFT, publish_at=past)
    ArticleFactory(status=Article.Status.REVIEW, publish_at=past)
    assert not Article.objects.published().exists()


def test_public_status_without_publish_time_is_refused_by_the_database():
    with pytest.raises(IntegrityError):
        ArticleFactory(status=Article.Status.PUBLISHED, publish_at=None)


def test_slug_is_made_from_a_non_latin_title():
    article = ArticleFactory(title="Москва и Пекин: новый договор", slug="")
    assert article.slug == "moskva-i-pekin-novyy-dogovor"


def test_slug_is_unique_with_a_suffix():
    first = ArticleFactory(title="Same title", slug="")
    second = ArticleFactory(title="Same title", slug="")
    assert (first.slug, second.slug) == ("same-title", "same-title-2")


def test_slug_of_an_old_address_is_not_reused():
    OldSlug.objects.create(article=ArticleFactory(), slug="taken-before")
    assert ArticleFactory(title="Taken before", slug="").slug == "taken-before-2"


def test_every_save_raises_the_version():
    article = ArticleFactory()
    assert article.version == 1
    article.save()
    article.refresh_from_db()
    assert article.version == 2


def test_checklist_lists_everything_missing():
    article = ArticleFactory(dek="", authors=[], lead_image=None)
    assert article.publish_problems() == [
        "Add at least one author.",
        "Write a dek or an SEO description.",
        "Choose a lead image.",
    ]


def test_checklist_accepts_seo_description_instead_of_dek():
    article = ready_article(dek="", seo_description="A summary for search engines.")
    assert article.publish_problems() == []


def test_checklist_requires_lead_image_alt_text_and_credit():
    article = ArticleFactory(lead_image=ImageFactory(alt_text="", credit=""))
    assert article.publish_problems() == [
        "Give the lead image alt text.",
        "Give the lead image a credit.",
    ]


def test_checklist_refuses_an_image_whose_rights_ended():
    article = ArticleFactory(
        lead_image=ImageFactory(usable_until=timezone.localdate() - timedelta(days=1))
    )
    assert any("rights to the lead image ended" in p for p in article.publish_problems())


def test_an_image_whose_rights_ended_yesterday_is_expired_in_python_and_in_sql():
    today = timezone.localdate()
    ended = ImageFactory(usable_until=today - timedelta(days=1))
    last_day = ImageFactory(usable_until=today)
    open_ended = ImageFactory(usable_until=None)
    assert [ended.is_expired, last_day.is_expired, open_ended.is_expired] == [True, False, False]
    assert list(Image.objects.rights_expired()) == [ended]


def test_checklist_requires_alt_text_and_credit_of_inline_images():
    inline = ImageFactory(alt_text="", credit="")
    article = ready_article(body=f'<p>x</p><figure><img src="{inline.file.url}"></figure>')
    problems = article.publish_problems()
    assert len(problems) == 2
    assert "needs alt text" in problems[0] and "needs a credit" in problems[1]


def test_checklist_refuses_images_from_outside_the_library():
    article = ready_article(
        body='<figure><img src="https://elsewhere.example/a.jpg" alt="a"></figure>'
    )
    assert article.publish_problems() == [
        "Every image in the body must come from the image library."
    ]


def test_owned_by_covers_creator_and_byline():
    user = UserFactory()
    created = ArticleFactory(created_by=user)
    from tests.factories import AuthorFactory

    bylined = ArticleFactory(authors=[AuthorFactory(user=user)])
    ArticleFactory()
    assert set(Article.objects.owned_by(user)) == {created, bylined}


def test_section_without_articles_can_be_ordered():
    first, second = SectionFactory(position=2), SectionFactory(position=1)
    from articles.models import Section

    assert list(Section.objects.all()) == [second, first]


def test_tag_slugs_are_transliterated():
    article = ArticleFactory()
    article.tags.add("Москва")
    assert list(article.tags.values_list("slug", flat=True)) == ["moskva"]


def test_tag_of_symbols_still_gets_a_usable_slug():
    article = ArticleFactory()
    article.tags.add('">', "<>")
    slugs = sorted(article.tags.values_list("slug", flat=True))
    assert slugs == ["untitled", "untitled-1"]
