"""Poisoned uploads through the editors' real image form, and how media are served.

Each hostile file must be refused with a message an editor can act on, and leave
nothing behind: no Image row and no file anywhere under MEDIA_ROOT.
"""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage

from articles.models import Image
from tests.factories import EditorFactory

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/articles/image/add/"
PHP_PAYLOAD = b"<?php system($_GET['cmd']); ?>"
HTML_PAYLOAD = b"<html><body><script>alert('XSS')</script></body></html>"
FIELDS = {
    "alt_text": "A hostile picture",
    "caption": "",
    "credit": "Somebody",
    "source": "",
    "license": "",
    "copyright_notice": "",
    "usable_until": "",
    "focal_x": "0.5",
    "focal_y": "0.5",
}


@pytest.fixture
def editor_client(client):
    client.force_login(EditorFactory())
    return client


def picture(kind, width=64, height=48):
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 40, 40)).save(buffer, format=kind)
    return buffer.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width, height, *, rows=1):
    """A few-hundred-byte 8-bit greyscale PNG whose header declares width x height.

    Only `rows` rows of zeros are compressed, so nothing of the declared size is ever
    held in memory here; a decoder that trusted the header would allocate it all.
    """
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + one byte per pixel
    idat = b"".join(compressor.compress(row) for _ in range(rows)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def post_image(client, data, name, content_type="image/jpeg"):
    return client.post(
        ADD_URL, {"file": SimpleUploadedFile(name, data, content_type=content_type), **FIELDS}
    )


def stored_files(settings):
    root = settings.MEDIA_ROOT
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def assert_refused(response, message, settings):
    assert response.status_code == 200, "the form must come back with an error, not save"
    page = response.content.decode()
    assert "errorlist" in page
    assert message in page
    assert not Image.objects.exists()
    assert stored_files(settings) == []


def test_decompression_bomb_is_refused_and_nothing_is_stored(editor_client, settings):
    bomb = png_declaring(12_000, 12_000)  # 144 million pixels in well under a kilobyte
    assert len(bomb) < 1024
    response = post_image(editor_client, bomb, "bomb.png", "image/png")
    assert_refused(response, "too large to process (12,000 x 12,000 pixels)", settings)


def test_30000_by_30000_png_is_refused_and_nothing_is_stored(editor_client, settings):
    huge = png_declaring(30_000, 30_000, rows=4)
    response = post_image(editor_client, huge, "huge.png", "image/png")
    assert_refused(response, "too large to process", settings)
    assert "Resize it and try again" in response.content.decode()


def test_truncated_jpeg_is_refused_and_nothing_is_stored(editor_client, settings):
    data = picture("JPEG", 1200, 800)
    response = post_image(editor_client, data[: len(data) // 3], "cut.jpg")
    assert_refused(response, "damaged or incomplete", settings)


@pytest.mark.parametrize(
    ("kind", "payload"),
    [("GIF", PHP_PAYLOAD), ("JPEG", PHP_PAYLOAD), ("GIF", HTML_PAYLOAD), ("PNG", HTML_PAYLOAD)],
    ids=["gif+php", "jpeg+php", "gif+html", "png+html"],
)
def test_polyglot_with_code_appended_is_refused(editor_client, settings, kind, payload):
    data = picture(kind) + payload
    with PILImage.open(io.BytesIO(data)) as opened:  # Pillow alone would accept it
        opened.load()
    response = post_image(editor_client, data, f"innocent.{kind.lower()}", f"image/{kind.lower()}")
    assert_refused(response, "contains code or markup", settings)


def test_polyglot_with_code_in_a_comment_is_refused(editor_client, settings):
    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 30)).save(buffer, format="GIF", comment=PHP_PAYLOAD)
    response = post_image(editor_client, buffer.getvalue(), "comment.gif", "image/gif")
    assert_refused(response, "contains code or markup", settings)


def test_ordinary_picture_with_xmp_metadata_is_still_accepted(editor_client, settings):
    xmp = (
        b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF></rdf:RDF></x:xmpmeta>'
        b'<?xpacket end="w"?>'
    )
    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 30)).save(buffer, format="JPEG", xmp=xmp)
    response = post_image(editor_client, buffer.getvalue(), "agency.jpg")
    assert response.status_code == 302
    assert len(stored_files(settings)) == 1


def test_svg_with_script_is_refused_and_nothing_is_stored(editor_client, settings):
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert('XSS')</script><rect width='10' height='10'/></svg>"
    )
    response = post_image(editor_client, svg, "logo.svg", "image/svg+xml")
    assert_refused(response, "not a picture Pillow can read", settings)


def test_php_named_jpg_is_refused_and_nothing_is_stored(editor_client, settings):
    response = post_image(editor_client, PHP_PAYLOAD, "photo.jpg")
    assert_refused(response, "not a picture Pillow can read", settings)


def test_png_named_gif_is_stored_under_its_real_extension(editor_client, settings):
    response = post_image(editor_client, picture("PNG"), "photo.gif", "image/gif")
    assert response.status_code == 302
    image = Image.objects.get()
    assert image.file.name.endswith("/photo.png")
    [stored] = stored_files(settings)
    assert stored.suffix == ".png"
    assert stored.read_bytes().startswith(b"\x89PNG")


def test_double_extension_never_reaches_the_stored_name(editor_client, settings):
    post_image(editor_client, picture("JPEG"), "shell.php.html.jpg")
    [stored] = stored_files(settings)
    assert stored.name.endswith(".jpg")
    assert ".php" not in stored.name
    assert ".html" not in stored.name


class StreamedMultipart:
    """A multipart body read in chunks, with `size` bytes of file content made on the fly.

    Lets a test send a 200 MB upload through the whole request stack without ever
    holding it in memory.
    """

    boundary = "UploadBoundary7MA4YWxkTrZu0gW"

    def __init__(self, *, size, fields):
        head = b""
        for name, value in fields.items():
            head += (
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n"
            ).encode()
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="huge.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode() + picture("JPEG")[:2]
        self.parts = [head, size - 2, f"\r\n--{self.boundary}--\r\n".encode()]
        self.length = len(head) + size - 2 + len(self.parts[2])

    def read(self, count=-1):
        out = b""
        while self.parts and (count < 0 or len(out) < count):
            wanted = count - len(out) if count >= 0 else 1 << 20
            part = self.parts[0]
            if isinstance(part, int):
                take = min(part, wanted)
                out += b"\xff" * take
                self.parts[0] -= take
                if not self.parts[0]:
                    self.parts.pop(0)
            else:
                out += part[:wanted]
                self.parts[0] = part[wanted:]
                if not self.parts[0]:
                    self.parts.pop(0)
        return out

    def readline(self, *args):
        raise NotImplementedError  # Django's multipart parser reads in chunks


def test_200_mb_upload_is_refused_with_its_size_and_nothing_is_stored(editor_client, settings):
    size = 200 * 1024 * 1024
    body = StreamedMultipart(size=size, fields=FIELDS)
    response = editor_client.generic(
        "POST",
        ADD_URL,
        CONTENT_TYPE=f"multipart/form-data; boundary={body.boundary}",
        CONTENT_LENGTH=str(body.length),
        **{"wsgi.input": body},
    )
    # Refused from its Content-Length, before a byte of the body is read or spooled
    # (issue 13); tests/security/test_request_guards.py sends one to a live server.
    assert response.status_code == 413
    assert "This upload is 200.0\xa0MB; an image may be at most 25.0\xa0MB" in response.text
    assert body.parts and body.parts[1] == 200 * 1024 * 1024 - 2, "the body was read"
    assert not Image.objects.exists()
    assert stored_files(settings) == []


def test_non_file_fields_stay_under_the_memory_limit(editor_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = editor_client.post(
        ADD_URL,
        {
            "file": SimpleUploadedFile("p.jpg", picture("JPEG"), content_type="image/jpeg"),
            **FIELDS,
            "caption": "x" * 20_000,
        },
    )
    assert response.status_code == 400
    assert not Image.objects.exists()
    assert stored_files(settings) == []


# --- Serving media ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "extension", "content_type"),
    [
        ("JPEG", "jpg", "image/jpeg"),
        ("PNG", "png", "image/png"),
        ("GIF", "gif", "image/gif"),
        ("WEBP", "webp", "image/webp"),
        ("AVIF", "avif", "image/avif"),
    ],
)
def test_media_are_served_with_their_type_and_nosniff(
    client, settings, kind, extension, content_type
):
    folder = settings.MEDIA_ROOT / "images" / "2026" / "01"
    folder.mkdir(parents=True)
    (folder / f"picture.{extension}").write_bytes(picture(kind))
    response = client.get(f"/media/images/2026/01/picture.{extension}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == picture(kind)


def test_uploaded_picture_is_served_as_an_image(editor_client, client, settings):
    post_image(editor_client, picture("PNG"), "served.jpg")
    image = Image.objects.get()
    response = client.get(image.file.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "name",
    [
        "evil.html",
        "evil.htm",
        "evil.svg",
        "evil.php",
        "evil.js",
        "evil.xml",
        "evil",
        "evil.jpg.html",
    ],
)
def test_a_stored_file_with_a_non_image_extension_is_never_served(client, settings, name):
    folder = settings.MEDIA_ROOT / "images"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(HTML_PAYLOAD)
    response = client.get(f"/media/images/{name}")
    assert response.status_code == 404
    assert b"alert" not in response.content


@pytest.mark.parametrize(
    "path", ["../secret.txt", "..%2Fsecret.txt", "/etc/passwd", "%2e%2e/x.png"]
)
def test_media_paths_cannot_leave_the_media_folder(client, settings, path):
    settings.MEDIA_ROOT.mkdir(parents=True)
    (settings.MEDIA_ROOT.parent / "secret.txt").write_text("secret")
    response = client.get(f"/media/{path}")
    assert response.status_code == 404
