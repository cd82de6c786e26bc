"""Editors at work on what is already published, in Chromium, as the demo roles.

An editor opens a published article (tags with commas and accents, two bylines, an
inline figure, a correction), changes one word of the body, saves; readers then see
that word and everything else as it was: page, tags, JSON-LD, feed item. An image
with non-ASCII credit and copyright is opened and saved unchanged. The focal point
marker is drawn where the focal point is on the picture.
"""

import json
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

AWKWARD_TAGS = ["Gaza, Strip", "São Paulo"]


def article_state(article):
    """Everything a save could disturb, as the database holds it."""
    article.refresh_from_db()
    return {
        "fields": {
            field.attname: getattr(article, field.attname)
            for field in article._meta.concrete_fields
            if field.name not in ("body", "modified_at", "version", "render_stamp")
        },
        "tags": sorted(article.tags.names()),
        "bylines": list(article.bylines.values_list("author__name", "position")),
        "notes": list(article.notes.values_list("kind", "text", "created_at")),
    }


def save(page):
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    expect(page.locator(".errornote, .errorlist")).to_have_count(0)


def test_editor_changes_one_word_of_a_published_article_and_nothing_else_moves(
    new_page, demo_editor, newsroom
):
    article = newsroom.article
    article.tags.add(*AWKWARD_TAGS)
    before = article_state(article)
    body_before = article.body
    assert "autumn" in body_before

    page = new_page()
    demo_editor.log_in(page)
    page.goto(reverse("admin:articles_article_change", args=[article.pk]))
    expect(page.locator("#id_tags")).to_have_value('"Gaza, Strip", "São Paulo", trade, weather')
    body = page.locator(".field-body .ProseMirror[contenteditable=true]")
    expect(body.locator("figure img")).to_have_count(1)
    word = body.get_by_text("Insurers expect the claims to arrive in the autumn.")
    word.click()
    page.keyboard.press("End")
    for _ in range(len("autumn.")):
        page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.type("spring.")
    save(page)

    after = article_state(article)
    assert after == before
    assert article.body == body_before.replace("the autumn.", "the spring.")

    reader = new_page()
    reader.goto(article.get_absolute_url())
    main = reader.get_by_role("main")
    expect(main).to_contain_text("Insurers expect the claims to arrive in the spring.")
    expect(main.get_by_role("img", name=newsroom.inline_image.alt_text)).to_be_visible()
    expect(main).to_contain_text(newsroom.correction.text)
    tags = main.locator(".tags a[rel=tag]")
    expect(tags).to_have_count(len(before["tags"]))
    assert sorted(tags.all_inner_texts()) == before["tags"]
    expect(main).not_to_contain_text("<Tag:")
    ld = [
        json.loads(block)
        for block in reader.locator('script[type="application/ld+json"]').all_inner_texts()
    ]
    article_ld = next(item for item in ld if item.get("headline") == article.title)
    assert sorted(article_ld["keywords"]) == before["tags"]

    feed = reader.request.get("/feed/").text()
    item = re.search(
        rf"<item>(?:(?!</item>).)*{re.escape(article.get_absolute_url())}(?:(?!</item>).)*</item>",
        feed,
        re.DOTALL,
    )
    assert item, "the article is missing from the feed"
    assert "arrive in the spring." in item.group(0)
    assert "autumn" not in item.group(0)


def test_an_image_with_non_ascii_credit_is_saved_unchanged(new_page, demo_editor):
    from tests.factories import ImageFactory

    image = ImageFactory()
    image.credit = "Zoë Ångström/Łódź Press"
    image.copyright_notice = "© Agência Brasil"
    image.source = "via Agência Brasil"
    image.caption = "Rescuers in São Paulo's Zona Leste."
    image.save()
    fields = [f.attname for f in image._meta.concrete_fields]
    before = {name: getattr(image, name) for name in fields}

    page = new_page()
    demo_editor.log_in(page)
    page.goto(reverse("admin:articles_image_change", args=[image.pk]))
    expect(page.get_by_label(re.compile("^Credit:?$"))).to_have_value("Zoë Ångström/Łódź Press")
    save(page)

    image.refresh_from_db()
    assert {name: getattr(image, name) for name in fields} == before


def marker_at(page):
    """The marker's centre as a fraction of the picture's box."""
    return page.evaluate(
        """() => {
            const image = document.querySelector('.focal-point img').getBoundingClientRect();
            const marker = document.querySelector('.focal-point__marker').getBoundingClientRect();
            return [
                (marker.left + marker.width / 2 - image.left) / image.width,
                (marker.top + marker.height / 2 - image.top) / image.height,
            ];
        }"""
    )


@pytest.mark.parametrize("width", [1280, 700])
def test_focal_point_marker_is_drawn_where_the_focal_point_is(new_page, demo_editor, width):
    from tests.factories import ImageFactory, image_file

    image = ImageFactory(file=image_file(width=1600, height=900))
    page = new_page(width=width)
    demo_editor.log_in(page)
    page.goto(reverse("admin:articles_image_change", args=[image.pk]))
    picture = page.locator(".focal-point img")
    expect(picture).to_be_visible()
    x, y = marker_at(page)
    assert x == pytest.approx(0.5, abs=0.01) and y == pytest.approx(0.5, abs=0.01)

    box = picture.bounding_box()
    for fx, fy in [(0.25, 0.25), (0.8, 0.6), (0.1, 0.9)]:
        picture.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
        expect(page.locator("#id_focal_x")).to_have_value(str(fx))
        expect(page.locator("#id_focal_y")).to_have_value(str(fy))
        x, y = marker_at(page)
        assert x == pytest.approx(fx, abs=0.01) and y == pytest.approx(fy, abs=0.01)
    save(page)
    image.refresh_from_db()
    assert (image.focal_x, image.focal_y) == (0.1, 0.9)

    page.goto(reverse("admin:articles_image_change", args=[image.pk]))
    x, y = marker_at(page)
    assert x == pytest.approx(0.1, abs=0.01) and y == pytest.approx(0.9, abs=0.01)


def test_tag_suggestions_are_written_the_way_the_box_is_read(new_page, demo_editor):
    from tests.factories import ArticleFactory

    ArticleFactory().tags.add("Gaza, Strip", "Gazette")
    article = ArticleFactory(title="Needs tags")
    article.tags.add("ports")
    page = new_page()
    demo_editor.log_in(page)
    page.goto(reverse("admin:articles_article_change", args=[article.pk]))
    box = page.locator("#id_tags")
    expect(box).to_have_value("ports")
    box.click()
    page.keyboard.press("End")
    page.keyboard.type(", Gaz")
    options = page.locator("#id_tags-suggestions option")
    expect(options).to_have_count(2)
    values = sorted(options.evaluate_all("options => options.map(o => o.value)"))
    assert values == ['ports, "Gaza, Strip"', "ports, Gazette"]
