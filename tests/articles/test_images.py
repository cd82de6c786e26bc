import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage

from articles import images
from articles.models import Image, Rendition
from tests.factories import ArticleFactory, AuthorFactory, EditorFactory, ImageFactory, image_file

pytestmark = pytest.mark.django_db


def upload(data, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def jpeg_bytes(width=640, height=400, **save_options):
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), (30, 90, 150)).save(buffer, format="JPEG", **save_options)
    return buffer.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decompression_bomb_png(width=100_000, height=100_000):
    """A valid-looking PNG of a few hundred bytes that claims ten billion pixels."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * 1024, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


@pytest.fixture
def editor_client(client):
    client.force_login(EditorFactory())
    return client


def post_image(client, data, name="photo.jpg", **fields):
    return client.post(
        "/admin/articles/image/add/",
        {
            "file": upload(data, name),
            "alt_text": "",
            "caption": "",
            "credit": "",
            "source": "",
            "license": "",
            "copyright_notice": "",
            "usable_until": "",
            "focal_x": "0.5",
            "focal_y": "0.5",
            **fields,
        },
    )


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP", "AVIF", "GIF"])
def test_each_allowed_format_is_accepted(kind):
    checked = images.check_upload(upload(image_file(width=40, height=30, format=kind).read()))
    assert (checked.format, checked.width, checked.height) == (kind, 40, 30)


def test_decompression_bomb_png_is_rejected_by_the_admin_with_a_message(editor_client):
    response = post_image(editor_client, decompression_bomb_png(), name="bomb.png")
    assert response.status_code == 200
    assert "too large to process" in response.content.decode()
    assert not Image.objects.exists()


def test_truncated_jpeg_is_rejected_with_a_message(editor_client):
    data = jpeg_bytes(1200, 800)
    response = post_image(editor_client, data[: len(data) // 2])
    assert "damaged or incomplete" in response.content.decode()
    assert not Image.objects.exists()


def test_php_file_named_jpg_is_rejected_with_a_message(editor_client, settings):
    response = post_image(editor_client, b"<?php system($_GET['cmd']); ?>", name="shell.php.jpg")
    assert "not a picture" in response.content.decode()
    assert not Image.objects.exists()
    assert not (settings.MEDIA_ROOT / "images").exists()


def test_too_many_bytes_is_rejected_before_decoding(editor_client, settings):
    settings.IMAGE_UPLOAD_MAX_BYTES = 1000
    response = post_image(editor_client, jpeg_bytes())
    assert "the limit is 1000" in response.content.decode()
    assert not Image.objects.exists()


def test_too_many_pixels_follows_the_setting(settings):
    settings.IMAGE_MAX_PIXELS = 100 * 100
    with pytest.raises(images.ValidationError, match="too large to process"):
        images.check_upload(upload(jpeg_bytes(200, 200)))


def test_unaccepted_real_image_format_is_refused():
    buffer = io.BytesIO()
    PILImage.new("RGB", (10, 10)).save(buffer, format="BMP")
    with pytest.raises(images.ValidationError, match="not accepted"):
        images.check_upload(upload(buffer.getvalue(), name="x.jpg"))


def test_upload_is_stored_under_its_real_extension(editor_client):
    buffer = io.BytesIO()
    PILImage.new("RGB", (50, 40)).save(buffer, format="PNG")
    post_image(editor_client, buffer.getvalue(), name="Holiday photo.jpg", alt_text="A beach")
    image = Image.objects.get()
    assert image.file.name.endswith("/holiday-photo.png")
    assert (image.width, image.height) == (50, 40)


def test_iptc_prefills_credit_caption_and_copyright(editor_client):
    data = images.with_iptc(
        jpeg_bytes(),
        {
            images.IPTC_BYLINE: "Gavriil Grigorov",
            images.IPTC_CREDIT: "TASS",
            images.IPTC_CAPTION: "Leaders arrive for the summit.",
            images.IPTC_COPYRIGHT: "© TASS 2026",
        },
    )
    response = post_image(editor_client, data, alt_text="Leaders arrive")
    assert response.status_code == 302
    image = Image.objects.get()
    assert image.credit == "Gavriil Grigorov/TASS"
    assert image.caption == "Leaders arrive for the summit."
    assert image.copyright_notice == "© TASS 2026"
    assert response["Location"] == f"/admin/articles/image/{image.pk}/change/"


def test_editor_values_win_over_iptc(editor_client):
    data = images.with_iptc(
        jpeg_bytes(), {images.IPTC_BYLINE: "Agency Person", images.IPTC_CREDIT: "Agency"}
    )
    post_image(editor_client, data, credit="Our Photographer")
    assert Image.objects.get().credit == "Our Photographer"


def test_exif_prefills_when_there_is_no_iptc():
    exif = PILImage.Exif()
    exif[images.EXIF_ARTIST] = "Jane Doe/Reuters"
    exif[images.EXIF_IMAGE_DESCRIPTION] = "A quiet street."
    exif[images.EXIF_COPYRIGHT] = "Reuters"
    checked = images.check_upload(upload(jpeg_bytes(exif=exif.tobytes())))
    assert checked.metadata == {
        "credit": "Jane Doe/Reuters",
        "caption": "A quiet street.",
        "copyright_notice": "Reuters",
    }


def test_iptc_source_becomes_via_source():
    data = images.with_iptc(
        jpeg_bytes(), {images.IPTC_CREDIT: "Jane Doe", images.IPTC_SOURCE: "Shutterstock"}
    )
    checked = images.check_upload(upload(data))
    assert checked.metadata["source"] == "via Shutterstock"


def test_rendition_widths_are_capped_at_the_original():
    assert images.rendition_widths(3000) == [400, 800, 1200, 1600]
    assert images.rendition_widths(1000) == [400, 800, 1000]
    assert images.rendition_widths(300) == [300]


def test_renditions_are_made_in_three_formats():
    image = ImageFactory(file=image_file(width=900, height=600))
    renditions = images.ensure_renditions(image)
    assert sorted((r.format, r.width) for r in renditions if not r.crop) == sorted(
        (kind, width) for kind in ("avif", "webp", "jpeg") for width in (400, 800, 900)
    )
    small = Rendition.objects.get(image=image, format="webp", width=400)
    assert small.height == 267
    with small.file.open("rb") as handle, PILImage.open(handle) as picture:
        assert (picture.format, picture.size) == ("WEBP", (400, 267))


def test_ensure_renditions_only_makes_missing_ones():
    image = ImageFactory()
    images.ensure_renditions(image)
    Rendition.objects.filter(image=image, format="avif").delete()
    before = set(Rendition.objects.values_list("pk", flat=True))
    images.ensure_renditions(image)
    assert before < set(Rendition.objects.values_list("pk", flat=True))
    assert Rendition.objects.filter(image=image, crop="").count() == 3


def test_upload_in_the_admin_makes_renditions_after_commit(
    editor_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_image(editor_client, jpeg_bytes(500, 300), alt_text="Sea")
    assert Rendition.objects.filter(image=Image.objects.get(), crop="").count() == 6


def test_image_used_as_lead_cannot_be_deleted_and_the_admin_says_where(editor_client):
    image = ImageFactory()
    article = ArticleFactory(lead_image=image, title="The harbour story")
    response = editor_client.post(f"/admin/articles/image/{image.pk}/delete/", {"post": "yes"})
    assert Image.objects.filter(pk=image.pk).exists()
    assert "The harbour story" in response.content.decode()
    page = editor_client.get(f"/admin/articles/image/{image.pk}/change/").content.decode()
    assert f"/admin/articles/article/{article.pk}/change/" in page


def test_image_used_in_a_body_cannot_be_deleted(editor_client):
    image = ImageFactory()
    ArticleFactory(title="Body user", body=f'<figure><img src="{image.file.url}" alt="x"></figure>')
    response = editor_client.post(f"/admin/articles/image/{image.pk}/delete/", {"post": "yes"})
    assert Image.objects.filter(pk=image.pk).exists()
    assert "Body user" in response.content.decode()


def test_author_photo_cannot_be_deleted(editor_client):
    image = ImageFactory()
    AuthorFactory(photo=image, name="Photo Author")
    response = editor_client.post(f"/admin/articles/image/{image.pk}/delete/", {"post": "yes"})
    assert Image.objects.filter(pk=image.pk).exists()
    assert "Photo Author" in response.content.decode()


def test_unused_image_can_be_deleted(editor_client):
    image = ImageFactory()
    editor_client.post(f"/admin/articles/image/{image.pk}/delete/", {"post": "yes"})
    assert not Image.objects.filter(pk=image.pk).exists()


def test_focal_point_is_saved_from_x_and_y(editor_client):
    image = ImageFactory()
    response = editor_client.post(
        f"/admin/articles/image/{image.pk}/change/",
        {
            "alt_text": image.alt_text,
            "caption": "",
            "credit": "C",
            "source": "",
            "license": "",
            "copyright_notice": "",
            "usable_until": "",
            "focal_x": "0.25",
            "focal_y": "0.8",
        },
    )
    assert response.status_code == 302
    image.refresh_from_db()
    assert (image.focal_x, image.focal_y) == (0.25, 0.8)


def test_focal_point_outside_the_picture_is_refused(editor_client):
    image = ImageFactory()
    response = editor_client.post(
        f"/admin/articles/image/{image.pk}/change/",
        {"alt_text": "a", "credit": "C", "focal_x": "1.5", "focal_y": "0.5"},
    )
    assert response.status_code == 200
    image.refresh_from_db()
    assert image.focal_x == 0.5


def test_expired_rights_are_flagged_in_the_image_list(editor_client):
    ImageFactory(usable_until="2000-01-01", alt_text="Old rights")
    response = editor_client.get("/admin/articles/image/?rights=expired")
    assert "Old rights" in response.content.decode()


def test_the_image_list_can_show_only_images_still_usable(editor_client):
    ImageFactory(usable_until="2000-01-01", alt_text="Old rights")
    ImageFactory(usable_until=None, alt_text="No end date")
    page = editor_client.get("/admin/articles/image/?rights=valid").content.decode()
    assert "No end date" in page and "Old rights" not in page


def test_picker_lists_library_images_for_the_editor(editor_client):
    ImageFactory(alt_text="Harbour cranes")
    response = editor_client.get("/admin/articles/image/picker/?CKEditorFuncNum=-1&q=harbour")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Harbour cranes" in page
    assert 'data-func-num="-1"' in page


def test_crops_in_each_ratio_are_1200_wide_from_a_large_picture():
    image = ImageFactory(file=image_file(width=3000, height=2000))
    images.ensure_renditions(image)
    crops = {
        r.crop: (r.format, r.width, r.height)
        for r in Rendition.objects.filter(image=image).exclude(crop="")
    }
    assert crops == {
        "16x9": ("jpeg", 1200, 675),
        "4x3": ("jpeg", 1200, 900),
        "1x1": ("jpeg", 1200, 1200),
        "share": ("jpeg", 1200, 630),
    }
    square = Rendition.objects.get(image=image, crop="1x1")
    with square.file.open("rb") as handle, PILImage.open(handle) as picture:
        assert picture.size == (1200, 1200)


def test_a_small_picture_is_cropped_as_large_as_it_allows():
    image = ImageFactory(file=image_file(width=900, height=600))
    images.ensure_renditions(image)
    sizes = dict(
        Rendition.objects.filter(image=image).exclude(crop="").values_list("crop", "width")
    )
    assert sizes == {"16x9": 900, "4x3": 800, "1x1": 600, "share": 900}


def test_crop_keeps_the_focal_point_in_view():
    # A 3000 x 1000 picture, its subject at the right edge: the square crop slides right
    # until it meets the edge, and contains the focal point.
    left, top, right, bottom = images.crop_box(3000, 1000, (1, 1), 0.95, 0.5)
    assert (right - left, bottom - top) == (1000, 1000)
    assert right == 3000 and left <= 0.95 * 3000 <= right
    assert images.crop_box(3000, 1000, (1, 1), 0.5, 0.5) == (1000, 0, 2000, 1000)
    assert images.crop_box(1000, 3000, (16, 9), 0.5, 0.0)[1] == 0


def halves_jpeg():
    """A 2400 x 1200 JPEG: red on the left half, blue on the right."""
    picture = PILImage.new("RGB", (2400, 1200), (255, 0, 0))
    picture.paste((0, 0, 255), (1200, 0, 2400, 1200))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG")
    return buffer.getvalue()


def square_crop_colour(image):
    crop = Rendition.objects.get(image=image, crop="1x1")
    with crop.file.open("rb") as handle, PILImage.open(handle) as made:
        red, _, blue = made.convert("RGB").getpixel((made.width // 2, made.height // 2))
    return "blue" if blue > red else "red"


def test_a_crop_shows_the_focal_point_of_the_picture():
    for focal_x, expected in [(0.9, "blue"), (0.1, "red")]:
        image = ImageFactory(file=SimpleUploadedFile("halves.jpg", halves_jpeg()), focal_x=focal_x)
        images.ensure_renditions(image)
        assert square_crop_colour(image) == expected


def test_moving_the_focal_point_in_the_admin_remakes_the_crops(
    editor_client, django_capture_on_commit_callbacks
):
    image = ImageFactory(file=SimpleUploadedFile("halves.jpg", halves_jpeg()), focal_x=0.1)
    images.ensure_renditions(image)
    assert square_crop_colour(image) == "red"
    whole = set(Rendition.objects.filter(image=image, crop="").values_list("file", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            f"/admin/articles/image/{image.pk}/change/",
            {
                "alt_text": image.alt_text,
                "caption": "",
                "credit": "C",
                "source": "",
                "license": "",
                "acquire_license_page": "",
                "copyright_notice": "",
                "usable_until": "",
                "focal_x": "0.9",
                "focal_y": "0.5",
            },
        )
    assert response.status_code == 302
    image.refresh_from_db()
    assert square_crop_colour(image) == "blue"
    # The whole-picture renditions do not depend on the focal point: they stay.
    assert (
        set(Rendition.objects.filter(image=image, crop="").values_list("file", flat=True)) == whole
    )
