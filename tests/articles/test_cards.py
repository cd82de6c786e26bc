"""Kept cards (articles/cards.py): rendered once, current until what they show changes.

Pages are read past the page cache (a reader with a session), so each request renders
from the database and shows what the kept cards hold.
"""

import re
from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone

from articles import cards, queries, services
from articles.models import Article, ArticleCard, Byline
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    ImageFactory,
    RenditionFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    image = ImageFactory(caption="", credit="Ana Lens/Agency")
    RenditionFactory(image=image, format="jpeg", width=800, height=450)
    return ArticleFactory(
        published=True,
        title="Harbour reopens",
        section=SectionFactory(name="Ports", slug="ports"),
        authors=[AuthorFactory(name="Ines Okafor")],
        lead_image=image,
    )


def home(reader):
    response = reader.get("/")
    assert response.status_code == 200
    return response.content.decode()


def teaser_cards(reader):
    """The home page's teaser cards alone (not its navigation, rail or JSON-LD)."""
    return "".join(re.findall(r'<article class="teaser.*?</article>', home(reader), re.S))


def test_a_listing_keeps_its_cards_and_shows_them_unchanged(reader_with_session, story):
    first = home(reader_with_session)
    kept = ArticleCard.objects.get(article=story)
    assert "Harbour reopens" in kept.teaser and "Ines Okafor" in kept.teaser
    assert {f"a{story.pk}", f"s{story.section_id}", f"i{story.lead_image_id}"} <= set(
        kept.keys.split()
    )
    assert home(reader_with_session) == first


@pytest.mark.parametrize(
    "change, shown",
    [
        (lambda story: setattr_and_save(story.section, name="Harbours"), "Harbours"),
        (
            lambda story: setattr_and_save(story.bylines.get().author, name="Ines Okafor-Reyes"),
            "Ines Okafor-Reyes",
        ),
        (lambda story: setattr_and_save(story.lead_image, credit="Bo Kest/Wire"), "Bo Kest/Wire"),
        (
            lambda story: RenditionFactory(
                image=story.lead_image, format="webp", width=480, height=270
            ),
            'type="image/webp"',
        ),
        (
            lambda story: Byline.objects.create(
                article=story, author=AuthorFactory(name="Second Writer"), position=1
            ),
            "Second Writer",
        ),
        (lambda story: setattr_and_save(story, title="Harbour reopens at last"), "at last"),
    ],
    ids=["section", "author", "picture", "rendition", "byline", "article"],
)
def test_a_change_to_what_a_card_shows_is_on_the_next_page(
    reader_with_session, story, change, shown
):
    assert shown not in teaser_cards(reader_with_session)
    change(story)
    assert shown in teaser_cards(reader_with_session)


def setattr_and_save(obj, **values):
    for name, value in values.items():
        setattr(obj, name, value)
    obj.save()


def test_a_correction_moves_the_cards_dateline(reader_with_session, story):
    assert "Updated" not in teaser_cards(reader_with_session)
    services.add_note(article=story, kind="correction", text="A date was wrong.")
    assert "Updated" in teaser_cards(reader_with_session)


def test_a_card_rendered_from_data_read_before_a_change_is_never_shown(reader_with_session, story):
    (before,) = queries.for_cards([Article.objects.only("pk").get(pk=story.pk)])
    author = story.bylines.get().author
    author.name = "Renamed Meanwhile"
    author.save()
    # A reader who loaded the story before the rename keeps its card after it.
    cards._keep([cards._render(before)], cards.version())
    assert "Renamed Meanwhile" in teaser_cards(reader_with_session)


def test_a_picture_whose_rights_end_leaves_the_card_without_a_save(
    reader_with_session, story, monkeypatch
):
    # The rights end tomorrow: today the card shows the picture.
    story.lead_image.usable_until = timezone.localdate() + timedelta(days=1)
    story.lead_image.save()
    assert "Ana Lens/Agency" in home(reader_with_session)
    later = timezone.localdate() + timedelta(days=2)
    monkeypatch.setattr(cards.timezone, "localdate", lambda: later)
    monkeypatch.setattr("articles.models.timezone.localdate", lambda: later)
    assert "Ana Lens/Agency" not in home(reader_with_session)


def test_cards_are_rendered_again_when_what_draws_them_changes(
    reader_with_session, story, settings
):
    home(reader_with_session)
    version = ArticleCard.objects.get(article=story).version
    settings.TIME_ZONE = "America/New_York"
    home(reader_with_session)
    assert ArticleCard.objects.get(article=story).version != version


def test_a_page_whose_cards_cannot_be_kept_is_still_served(reader_with_session, story, monkeypatch):
    def read_only(*args, **kwargs):
        raise DatabaseError("cannot execute INSERT in a read-only transaction")

    monkeypatch.setattr(ArticleCard.objects, "bulk_create", read_only)
    assert "Harbour reopens" in home(reader_with_session)
    assert not ArticleCard.objects.exists()


def test_search_results_use_the_kept_cards_with_their_own_snippet(reader_with_session, story):
    response = reader_with_session.get("/search/?q=harbour")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="search-result"' in html and "Harbour reopens" in html
    assert "<!--snippet-->" not in html
    assert ArticleCard.objects.filter(article=story).exists()


def test_an_article_shown_twice_on_a_page_is_rendered_and_kept_once(story):
    row = Article.objects.only("pk").get(pk=story.pk)
    shown = cards.cards_of([row, row])
    assert [card.pk for card in shown] == [story.pk, story.pk]
    assert ArticleCard.objects.filter(article=story).count() == 1
    assert cards._read([story.pk], cards.version(), cards.FORMS)[story.pk].teaser == shown[0].teaser


def test_keep_cards_draws_what_is_not_current_and_nothing_twice(story):
    from io import StringIO

    from django.core.management import call_command

    ArticleFactory.create_batch(3, published=True)
    ArticleFactory()  # a draft: no card
    out = StringIO()
    call_command("keep_cards", "--batch-size", "2", stdout=out)
    assert out.getvalue().startswith("4 of 4 ")
    assert ArticleCard.objects.count() == 4
    story.title = "Harbour reopens at last"
    story.save()
    out = StringIO()
    call_command("keep_cards", stdout=out)
    assert out.getvalue().startswith("1 of 4 ")
    assert "at last" in ArticleCard.objects.get(article=story).teaser


def test_stories_sharing_a_picture_each_show_it_in_full(reader_with_session, story):
    ArticleFactory(published=True, title="Cranes return", lead_image=story.lead_image)
    cards_html = re.findall(r'<article class="teaser.*?</article>', home(reader_with_session), re.S)
    assert len(cards_html) == 2
    assert all('type="image/jpeg"' in card or "srcset=" in card for card in cards_html)
    assert cards_html[0].count("srcset=") == cards_html[1].count("srcset=") > 0


def test_a_page_reads_only_the_forms_of_the_cards_it_shows():
    story = Article.objects.only("pk").get(
        pk=ArticleFactory(published=True, title="Harbour reopens").pk
    )
    cards.cards_of([story])  # drawn and kept

    [card] = cards.cards_of([story], forms=("rail_item",))

    assert "Harbour reopens" in card.rail_item
    assert card.teaser == card.lead_teaser == card.search_result == card.related_item == ""


def test_a_new_rendition_renews_only_the_stories_showing_its_picture(story):
    """The story it leads and one showing it in its body are drawn again; a story with
    another picture and a picture no story shows yet leave every stamp as it was."""
    from articles.models import KeptArticlePage

    picture = story.lead_image
    in_body = ArticleFactory(published=True, body=f'<p>x</p><img data-image-id="{picture.pk}">')
    KeptArticlePage.objects.create(
        article=in_body,
        stamp=in_body.render_stamp,
        version="v",
        keys=f" a{in_body.pk} i{picture.pk} ",
    )
    other = ArticleFactory(published=True, lead_image=ImageFactory())
    stamps = dict(Article.objects.values_list("pk", "render_stamp"))

    RenditionFactory(image=ImageFactory(), format="jpeg", width=400, height=225)
    assert dict(Article.objects.values_list("pk", "render_stamp")) == stamps

    RenditionFactory(image=picture, format="webp", width=400, height=225)
    now = dict(Article.objects.values_list("pk", "render_stamp"))
    assert now[story.pk] != stamps[story.pk]
    assert now[in_body.pk] != stamps[in_body.pk]
    assert now[other.pk] == stamps[other.pk]
