import re

import pytest
from django.core.management import CommandError, call_command
from taggit.models import Tag, TaggedItem

from articles.models import Article, Author, Byline, Image, Rendition
from articles.richtext import sanitize_html
from bench.management.commands import seed_bulk
from newsletter.models import Subscriber

SMALL = {"articles": 50, "subscribers": 100, "authors": 12, "tags": 40, "verbosity": 0}


def seed(**overrides):
    call_command(seed_bulk.Command(), **{**SMALL, **overrides})


def counts():
    return {
        "articles": Article.objects.count(),
        "subscribers": Subscriber.objects.count(),
        "authors": Author.objects.count(),
        "tags": Tag.objects.count(),
        "images": Image.objects.count(),
        "renditions": Rendition.objects.count(),
        "bylines": Byline.objects.count(),
        "tagged": TaggedItem.objects.count(),
    }


@pytest.mark.django_db
def test_seed_bulk_creates_the_requested_numbers():
    seed()

    assert Article.objects.count() == 50
    assert Subscriber.objects.count() == 100
    assert Author.objects.count() == 12
    assert Tag.objects.count() == 40
    assert Image.objects.count() == 20


@pytest.mark.django_db
def test_running_seed_bulk_twice_does_not_double_the_data():
    seed()
    first = counts()

    seed()

    assert counts() == first


@pytest.mark.django_db
def test_a_larger_size_tops_up_a_smaller_dataset():
    seed(articles=30, subscribers=60)
    slugs_before = set(Article.objects.values_list("slug", flat=True))

    seed(articles=50, subscribers=100)

    assert Article.objects.count() == 50
    assert Subscriber.objects.count() == 100
    assert slugs_before < set(Article.objects.values_list("slug", flat=True))


@pytest.mark.django_db
def test_every_article_has_a_byline_a_section_and_tags():
    seed()

    assert not Article.objects.filter(bylines__isnull=True).exists()
    assert not Article.objects.filter(section__isnull=True).exists()
    assert TaggedItem.objects.values("object_id").distinct().count() == 50


@pytest.mark.django_db
def test_bodies_are_800_to_2000_words_of_sanitised_html():
    seed(articles=10)

    for body in Article.objects.values_list("body", flat=True):
        words = len(re.sub(r"<[^>]+>", " ", body).split())
        assert 800 <= words <= 2100
        assert sanitize_html(body) == body


@pytest.mark.django_db
def test_images_have_credits_and_renditions_pointing_at_real_files(settings):
    seed()

    image = Image.objects.first()
    assert image.credit
    assert image.renditions.count() == Rendition.objects.filter(image=image).count() > 0
    assert (settings.MEDIA_ROOT / image.file.name).exists()
    for rendition in image.renditions.all():
        assert (settings.MEDIA_ROOT / rendition.file.name).exists()


@pytest.mark.django_db
def test_most_seeded_articles_are_public_and_their_pages_answer(client):
    seed()

    public = Article.objects.published()
    assert public.count() >= 40
    response = client.get(public.first().get_absolute_url())

    assert response.status_code == 200


@pytest.mark.django_db
def test_seeded_subscribers_have_unique_addresses_and_mixed_statuses():
    seed(subscribers=300)

    emails = list(Subscriber.objects.values_list("email", flat=True))
    assert len({email.lower() for email in emails}) == 300
    statuses = set(Subscriber.objects.values_list("status", flat=True))
    assert {Subscriber.Status.ACTIVE, Subscriber.Status.UNSUBSCRIBED} <= statuses


@pytest.mark.django_db
def test_seed_bulk_refuses_a_negative_size():
    with pytest.raises(CommandError):
        seed(articles=-1)
