import pytest

from articles import body
from articles.richtext import body_image_ids
from tests.factories import ImageFactory, RenditionFactory

pytestmark = pytest.mark.django_db


def test_all_images_of_a_body_load_in_one_query(django_assert_num_queries):
    images = [ImageFactory() for _ in range(5)]
    for image in images:
        RenditionFactory(image=image, format="webp", width=480, height=300)
        RenditionFactory(image=image, format="jpeg", width=480, height=300)
    html = "".join(
        f'<figure data-image-id="{i.pk}"><img src="/x" data-image-id="{i.pk}"></figure>'
        for i in images
    )
    with django_assert_num_queries(1):
        loaded = body.load_images(body_image_ids(html))
        rendered = body.render_body(html, loaded)
    assert rendered.count("<picture>") == 5
    assert rendered.count('type="image/webp"') == 5


def test_image_without_renditions_falls_back_to_the_original_file():
    image = ImageFactory()
    rendered = body.render_body(
        f'<figure data-image-id="{image.pk}"></figure>', body.load_images([image.pk])
    )
    assert f'src="{image.file.url}"' in rendered
    assert f'width="{image.width}" height="{image.height}"' in rendered
    assert "<source" not in rendered


def test_figure_of_a_missing_image_is_dropped():
    assert (
        body.render_body(
            '<p>a</p><figure data-image-id="999"><figcaption>x</figcaption></figure>', {}
        )
        == "<p>a</p>"
    )


def test_image_from_another_host_is_dropped():
    html = '<p>a</p><p><img src="https://evil.example.com/p.gif" alt=""></p>'
    assert "evil.example.com" not in body.render_body(html, {})


def test_caption_from_the_body_wins_over_the_library_caption():
    image = ImageFactory(caption="Library caption")
    html = f'<figure data-image-id="{image.pk}"><figcaption>Editor <em>caption</em></figcaption></figure>'
    rendered = body.render_body(html, body.load_images([image.pk]))
    assert "Editor <em>caption</em>" in rendered and "Library caption" not in rendered


def test_credit_is_visible_text_not_a_tooltip():
    image = ImageFactory(credit="Rainer Lesniewski", source="via shutterstock.com")
    rendered = body.render_body(
        f'<figure data-image-id="{image.pk}"></figure>', body.load_images([image.pk])
    )
    assert '<span class="credit">Photo: Rainer Lesniewski via shutterstock.com</span>' in rendered


def test_alt_text_is_escaped():
    image = ImageFactory(alt_text='"><script>x</script>')
    rendered = body.picture(body.load_images([image.pk])[image.pk])
    assert "<script>" not in rendered


def test_paragraphs_are_plain_text():
    assert body.paragraphs("<p>One &amp; <em>two</em></p><p></p><p>Three</p>") == [
        "One & two",
        "Three",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "renditions/2026/12/photo-800.jpg",
        "renditions/a b.jpg",
        "renditions/é.webp",
        "renditions/../photo.jpg",
        "renditions//photo.jpg",
        "renditions/.hidden.jpg",
        "renditions/it's~(1).avif",
    ],
)
def test_rendition_urls_are_the_storages_own(name):
    rendition = RenditionFactory.build(file=name)
    assert body.file_url(rendition.file) == rendition.file.storage.url(name)


def test_a_picture_loaded_as_rows_is_the_picture_of_the_model_instances():
    image = ImageFactory()
    for fmt in ("avif", "webp", "jpeg"):
        for width in (1200, 400, 800):
            RenditionFactory(image=image, format=fmt, width=width, height=width // 2)
    image.refresh_from_db()
    as_rows = body.load_images([image.pk])[image.pk]
    assert body.picture(as_rows, sizes="50vw") == body.picture(image, sizes="50vw")
    body.attach_renditions([image])
    assert body.picture(image, sizes="50vw") == body.picture(as_rows, sizes="50vw")
