"""The article page's own parts are kept (articles/article_page.py) and current until
anything they show changes; its rails come from the other articles' kept cards.

Pages are read past the page cache (a reader with a session).
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from articles import article_page, queries, services
from articles.models import Article, KeptArticlePage
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    ImageFactory,
    RenditionFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db


def credited_image(**fields):
    image = ImageFactory(**fields)
    RenditionFactory(image=image, format="jpeg", width=800, height=450)
    return image


@pytest.fixture
def story():
    inline = credited_image(caption="", credit="Body Lens/Agency")
    body = (
        "<p>The harbour opened at dawn.</p>"
        f'<figure data-image-id="{inline.pk}"><img src="{inline.file.url}" '
        f'data-image-id="{inline.pk}" alt=""><figcaption>Cranes at work.</figcaption></figure>'
    )
    article = ArticleFactory(
        published=True,
        title="Harbour reopens",
        section=SectionFactory(name="Ports", slug="ports"),
        authors=[AuthorFactory(name="Ines Okafor")],
        lead_image=credited_image(credit="Lead Lens/Agency"),
        body=body,
    )
    article.tags.add("Shipping")
    article.inline_image = inline
    return article


def article_html(reader, article):
    response = reader.get(Article.objects.get(pk=article.pk).get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    return re.search(r'<article class="article".*?</article>', html, re.S).group(0), html


def test_the_page_keeps_its_own_parts_and_shows_them_unchanged(reader_with_session, story):
    _, first = article_html(reader_with_session, story)
    kept = KeptArticlePage.objects.get(article=story)
    assert "Harbour reopens" in kept.main and "Body Lens/Agency" in kept.main
    assert f" i{story.inline_image.pk} " in kept.keys
    _, again = article_html(reader_with_session, story)
    assert again == first


def rename(obj, **values):
    for name, value in values.items():
        setattr(obj, name, value)
    obj.save()


@pytest.mark.parametrize(
    "change, shown",
    [
        (lambda story: rename(story, title="Harbour reopens at last"), "at last"),
        (lambda story: rename(story.section, name="Harbours"), "Harbours"),
        (lambda story: rename(story.bylines.get().author, name="I. Okafor"), "I. Okafor"),
        (lambda story: story.tags.add("Trade routes"), "Trade routes"),
        (
            lambda story: rename(story.tags.get(name="Shipping"), name="Sea freight"),
            "Sea freight",
        ),
        (
            lambda story: services.add_note(
                article=story, kind="correction", text="The harbour opened at noon."
            ),
            "opened at noon",
        ),
        (lambda story: rename(story.lead_image, credit="New Lens/Wire"), "New Lens/Wire"),
        (lambda story: rename(story.inline_image, credit="Other Lens/Wire"), "Other Lens/Wire"),
        (
            lambda story: RenditionFactory(
                image=story.inline_image, format="webp", width=480, height=270
            ),
            'type="image/webp"',
        ),
    ],
    ids=[
        "article",
        "section",
        "author",
        "tag-added",
        "tag-renamed",
        "correction",
        "lead-picture",
        "body-picture",
        "body-rendition",
    ],
)
def test_a_change_to_what_the_page_shows_is_on_its_next_render(
    reader_with_session, story, change, shown
):
    main, _ = article_html(reader_with_session, story)
    assert shown not in main
    change(story)
    main, _ = article_html(reader_with_session, story)
    assert shown in main


def test_parts_rendered_from_data_read_before_a_change_are_never_shown(reader_with_session, story):
    before = queries.article_for_page(pk=story.pk)
    author = story.bylines.get().author
    rename(author, name="Renamed Meanwhile")
    # A reader who loaded the article before the rename keeps its parts after it.
    article_page.keep([before], article_page.version())
    main, _ = article_html(reader_with_session, story)
    assert "Renamed Meanwhile" in main


def test_a_body_picture_whose_rights_end_leaves_the_page_without_a_save(
    reader_with_session, story, monkeypatch
):
    rename(story.inline_image, usable_until=timezone.localdate() + timedelta(days=1))
    main, _ = article_html(reader_with_session, story)
    assert "Body Lens/Agency" in main
    later = timezone.localdate() + timedelta(days=2)
    monkeypatch.setattr("articles.cards.timezone.localdate", lambda: later)
    monkeypatch.setattr("articles.models.timezone.localdate", lambda: later)
    main, _ = article_html(reader_with_session, story)
    assert "Body Lens/Agency" not in main


def test_the_page_is_rendered_again_when_what_draws_it_changes(
    reader_with_session, story, settings
):
    article_html(reader_with_session, story)
    version = KeptArticlePage.objects.get(article=story).version
    settings.SITE_NAME = "The Harbour Post"
    _, html = article_html(reader_with_session, story)
    assert KeptArticlePage.objects.get(article=story).version != version
    assert 'content="The Harbour Post"' in html


def test_an_article_withdrawn_from_readers_is_not_found_whatever_is_kept(
    reader_with_session, story
):
    address = story.get_absolute_url()
    article_html(reader_with_session, story)
    Article.objects.filter(pk=story.pk).update(status=Article.Status.DRAFT)
    assert reader_with_session.get(address).status_code == 404


def test_the_rails_show_other_articles_from_their_cards(reader_with_session, story):
    other = ArticleFactory(published=True, title="Ferries return", section=story.section)
    other.tags.add("Shipping")
    _, html = article_html(reader_with_session, story)
    related = re.search(r'<section class="related".*?</section>', html, re.S).group(0)
    assert "Ferries return" in related
    rename(other, title="Ferries return to the harbour")
    _, html = article_html(reader_with_session, story)
    assert "Ferries return to the harbour" in html


def related_rail(html):
    """The Related rail's HTML ("" when the page has none)."""
    found = re.search(r'<section class="related".*?</section>', html, re.S)
    return found.group(0) if found else ""


def test_the_rails_ranking_is_kept_and_ranked_again_once_it_is_old(reader_with_session, story):
    _, html = article_html(reader_with_session, story)
    newer = ArticleFactory(published=True, title="Tugboats strike", section=story.section)
    newer.tags.add("Shipping")

    # Within RAILS_RANKED_SECONDS the kept ranking is shown again: no ranking query.
    _, html = article_html(reader_with_session, story)
    assert "Tugboats strike" not in related_rail(html)

    KeptArticlePage.objects.filter(article=story).update(
        rails_ranked_at=timezone.now() - timedelta(seconds=article_page.RAILS_RANKED_SECONDS + 1)
    )
    _, html = article_html(reader_with_session, story)
    assert "Tugboats strike" in related_rail(html)


def test_a_story_withdrawn_since_the_ranking_leaves_the_rails_at_once(reader_with_session, story):
    other = ArticleFactory(published=True, title="Ferries return", section=story.section)
    other.tags.add("Shipping")
    _, html = article_html(reader_with_session, story)
    assert "Ferries return" in related_rail(html)

    Article.objects.filter(pk=other.pk).update(status=Article.Status.DRAFT)

    _, html = article_html(reader_with_session, story)
    assert "Ferries return" not in html
    assert KeptArticlePage.objects.get(article=story).rails.count(str(other.pk)) == 0


def test_a_change_of_the_articles_tags_ranks_its_rails_again_at_once(reader_with_session, story):
    elsewhere = SectionFactory(name="Farming", slug="farming")
    other = ArticleFactory(published=True, title="Trawlers idle", section=elsewhere)
    other.tags.add("Fishing")
    _, html = article_html(reader_with_session, story)
    assert "Trawlers idle" not in related_rail(html)

    story.tags.add("Fishing")  # a new stamp: the page's parts and ranking are drawn again

    _, html = article_html(reader_with_session, story)
    assert "Trawlers idle" in related_rail(html)
