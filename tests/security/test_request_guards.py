"""Hostile requests refused before any view: NUL bytes, TRACE, oversized bodies, opaque
origins on the signup form, and a rejected ?next= on the login (issue 13)."""

import socket
import time

import pytest
from django.contrib.auth.models import Group

from newsletter.models import Subscriber
from tests.factories import EditorFactory, ImageFactory, StaffFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"

# Every admin URL that puts a query parameter into SQL: the searches, the image picker,
# the autocompletes behind every autocomplete field, and the list filters.
NUL_URLS = [
    "/admin/articles/article/?q=%00",
    "/admin/articles/article/?status__exact=%00",
    "/admin/articles/article/?section__id__exact=%00",
    "/admin/articles/article/?kind__exact=a%00b",
    "/admin/articles/image/?q=%00",
    "/admin/articles/image/picker/?q=%00",
    "/admin/articles/author/?q=x%00",
    "/admin/autocomplete/?app_label=articles&model_name=article&field_name=section&term=%00",
    "/admin/autocomplete/?app_label=articles&model_name=article&field_name=lead_image&term=%00",
    "/admin/autocomplete/?app_label=articles&model_name=byline&field_name=author&term=%00",
    "/admin/newsletter/subscriber/?status__exact=%00",
    "/admin/newsletter/subscriber/?q=%00",
    "/admin/auth/user/?q=%00",
    "/search/?q=%00",
    "/?page=%00",
]


@pytest.fixture
def superuser_client(client):
    client.force_login(StaffFactory(username="root", is_superuser=True))
    return client


@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_byte_in_a_query_string_answers_400(superuser_client, url):
    ImageFactory()
    response = superuser_client.get(url)
    assert response.status_code == 400


def test_a_nul_byte_in_a_form_field_answers_400_and_stores_nothing(client):
    response = client.post(
        "/newsletter/", {"email": "nul\x00@example.com"}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 400
    assert not Subscriber.objects.exists()


def test_a_nul_byte_in_the_login_form_answers_400(client):
    EditorFactory(username="editor")
    response = client.post("/admin/login/", {"username": "editor\x00", "password": PASSWORD})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_an_editor_search_without_nul_still_works(client):
    editor = EditorFactory(username="chief")
    editor.groups.add(Group.objects.get(name="Newsletter editor"))
    client.force_login(editor)
    assert client.get("/admin/articles/article/?q=minister").status_code == 200
    assert client.get("/admin/newsletter/subscriber/?status__exact=active").status_code == 200


@pytest.mark.parametrize("method", ["TRACE", "TRACK", "CONNECT"])
@pytest.mark.parametrize("url", ["/media/images/photo.jpg", "/", "/admin/login/"])
def test_trace_and_friends_answer_405(client, method, url):
    response = client.generic(method, url)
    assert response.status_code == 405
    assert "TRACE" not in response["Allow"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_media_answer_only_get_and_head(client, settings, method):
    image = ImageFactory()
    url = f"/media/{image.file.name}"
    assert client.get(url).status_code == 200
    assert client.head(url).status_code == 200
    response = client.generic(method, url)
    assert response.status_code == 405
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


def test_an_opaque_origin_cannot_sign_anyone_up(client):
    response = client.post(
        "/newsletter/", {"email": "victim@example.com"}, headers={"Origin": "null"}
    )
    assert response.status_code == 403
    assert not Subscriber.objects.exists()


def test_a_rejected_next_on_the_login_lands_on_the_desk(client):
    EditorFactory(username="editor")
    response = client.post(
        "/admin/login/?next=https://evil.example/",
        {"username": "editor", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get(response["Location"]).status_code == 200


def _post_huge(host, port, path, *, declared, give_up_after):
    """Send a multipart POST declaring `declared` bytes, streaming zeros until the server
    answers or `give_up_after` bytes are out. Returns (status line, bytes sent, seconds)."""
    boundary = "----newsroom-huge"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    started = time.monotonic()
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(
        (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {declared}\r\n\r\n"
        ).encode()
        + head
    )
    sock.setblocking(False)
    sent, chunk, answer = len(head), b"\x00" * 65536, b""
    while sent < give_up_after and b"\r\n" not in answer:
        try:
            answer += sock.recv(4096)
            break
        except BlockingIOError:
            pass
        try:
            sent += sock.send(chunk)
        except BlockingIOError:
            time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            break
    sock.settimeout(10)
    while b"\r\n" not in answer:
        try:
            data = sock.recv(4096)
        except (ConnectionResetError, TimeoutError):
            break
        if not data:
            break
        answer += data
    sock.close()
    return answer.split(b"\r\n", 1)[0].decode(), sent, time.monotonic() - started


@pytest.mark.django_db(transaction=True)
def test_a_200_mb_upload_is_refused_before_it_is_read(live_server, settings, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    host, port = live_server.url.removeprefix("http://").split(":")
    status, sent, seconds = _post_huge(
        host,
        int(port),
        "/admin/articles/image/add/",
        declared=200 * 1024 * 1024,
        give_up_after=200 * 1024 * 1024,
    )
    assert status.startswith("HTTP/1.1 413"), status
    # The answer came from the headers: far less than the body had been sent.
    assert sent < 20 * 1024 * 1024, sent
    assert seconds < 30
    assert list(spool.iterdir()) == []


def test_a_body_that_lies_about_its_length_is_cut_off(client, settings):
    """The upload handler bounds what Content-Length did not announce."""
    settings.REQUEST_MAX_BYTES = 1024
    from newsroom.request_guards import BoundedUploadHandler

    handler = BoundedUploadHandler()
    handler.receive_data_chunk(b"x" * 1000, 0)
    from django.core.files.uploadhandler import StopUpload

    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"x" * 100, 1000)


def test_a_large_upload_under_the_limit_still_reaches_the_form(client, settings):
    settings.REQUEST_MAX_BYTES = 2 * 1024 * 1024
    SubscriberFactory()
    client.force_login(EditorFactory())
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/admin/articles/image/add/",
        {"file": SimpleUploadedFile("a.jpg", b"\xff" * (1024 * 1024)), "alt_text": "x"},
    )
    assert response.status_code == 200  # the form's own error, not 413
    assert "Upload a valid image" in response.text or "errornote" in response.text
