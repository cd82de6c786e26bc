"""One account attacked from many addresses is slowed down, never locked, and a
password with a one-time code gets through (issue 13, row 2 and "What to build" 2)."""

import itertools

import pytest

from newsroom import login_throttle
from tests.accounts.helpers import current_code, give_app, give_recovery_codes
from tests.factories import EditorFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
PROXY = "127.0.0.1"
LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture(autouse=True)
def behind_the_proxy(settings):
    """The production shape: every request arrives from the TLS proxy on 127.0.0.1,
    which appends the reader's address to X-Forwarded-For."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_THROTTLE_AFTER = 6
    settings.LOGIN_THROTTLE_MAX_SECONDS = 300


def attempt(client, username, password, *, ip, code=None, forged=None):
    forwarded = f"{forged}, {ip}" if forged else ip
    data = {"username": username, "password": password}
    if code is not None:
        data["otp_token"] = code
    return client.post(LOGIN, data, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def spray(client, username, count, *, start=1):
    """Wrong passwords from `count` different addresses, as a botnet sends them."""
    for number in range(start, start + count):
        attempt(client, username, f"guess-{number}", ip=f"198.51.100.{number}")


@pytest.fixture
def editor():
    return EditorFactory(username="editor")


def test_below_the_threshold_a_distributed_guess_changes_nothing(client, editor):
    spray(client, "editor", 5)
    assert attempt(client, "editor", PASSWORD, ip="192.0.2.10").status_code == 302


def test_past_the_threshold_the_account_is_slowed_down_and_the_page_says_so(client, editor):
    spray(client, "editor", 7)
    response = attempt(client, "editor", PASSWORD, ip="192.0.2.10")
    assert response.status_code == 200  # the login page, not a lock
    assert "Sign-ins to this account are being slowed down" in response.text
    assert 'name="otp_token"' in response.text
    assert "_auth_user_id" not in client.session


def test_the_wait_grows_with_each_failure_and_is_capped(settings):
    settings.LOGIN_THROTTLE_AFTER = 6
    settings.LOGIN_THROTTLE_MAX_SECONDS = 300
    delays = [login_throttle.delay_for(count) for count in range(5, 20)]
    assert delays[:2] == [0, 1]
    assert delays == sorted(delays)
    assert delays[-1] == 300
    assert all(later > earlier for earlier, later in itertools.pairwise(delays[1:10]))


def test_after_the_wait_the_right_password_gets_in(client, editor, monkeypatch):
    spray(client, "editor", 7)
    wait = login_throttle.wait_seconds("editor")
    assert 1 <= wait <= 2
    import time

    later = time.time() + wait + 1
    monkeypatch.setattr("newsroom.login_throttle.time.time", lambda: later)
    monkeypatch.setattr("newsroom.ratelimit.time.time", lambda: later)
    assert attempt(client, "editor", PASSWORD, ip="192.0.2.10").status_code == 302


def test_while_slowed_down_the_password_and_an_app_code_get_in_at_once(client, editor):
    device = give_app(editor)
    spray(client, "editor", 12)  # the tries past the threshold are refused unchecked
    assert login_throttle.wait_seconds("editor") >= 1
    response = attempt(client, "editor", PASSWORD, ip="192.0.2.10", code=current_code(device))
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    # Verified by that code: the desk opens without a second prompt.
    desk = client.get("/admin/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.10")
    assert desk.status_code == 200
    assert login_throttle.wait_seconds("editor") == 0


def test_while_slowed_down_a_recovery_code_gets_in_once(client, editor):
    give_app(editor)
    recovery = give_recovery_codes(editor)[0]
    spray(client, "editor", 12)
    assert attempt(client, "editor", PASSWORD, ip="192.0.2.10", code=recovery).status_code == 302
    client.logout()
    spray(client, "editor", 12, start=50)
    again = attempt(client, "editor", PASSWORD, ip="192.0.2.10", code=recovery)
    assert again.status_code == 200
    assert "being slowed down" in again.text


def test_a_guesser_learns_nothing_from_a_right_password_with_a_wrong_code(client, editor):
    device = give_app(editor)
    spray(client, "editor", 12)
    wrong_code = current_code(device, offset_steps=10)
    right_password = attempt(client, "editor", PASSWORD, ip="192.0.2.10", code=wrong_code)
    wrong_password = attempt(client, "editor", "guess", ip="192.0.2.11", code=wrong_code)
    assert right_password.status_code == wrong_password.status_code == 200
    message = "Sign-ins to this account are being slowed down"
    assert message in right_password.text and message in wrong_password.text
    assert "_auth_user_id" not in client.session


def test_a_forged_forwarded_address_does_not_escape_the_pair_lock(client, editor, settings):
    """The client writes the left of X-Forwarded-For; only the proxy's entry counts."""
    settings.LOGIN_THROTTLE_AFTER = 20
    for number in range(5):
        attempt(client, "editor", "wrong", ip="198.51.100.1", forged=f"10.0.0.{number}")
    locked = attempt(client, "editor", PASSWORD, ip="198.51.100.1", forged="10.9.9.9")
    assert locked.status_code == 429
    assert attempt(client, "editor", PASSWORD, ip="192.0.2.10").status_code == 302


def test_the_throttle_counts_names_that_do_not_exist_alike(client):
    spray(client, "nobody-here", 7)
    response = attempt(client, "nobody-here", "x", ip="192.0.2.10")
    assert "being slowed down" in response.text


@pytest.mark.django_db(transaction=True)
def test_through_a_live_server_an_attacker_cannot_lock_the_editor_out(live_server, settings):
    """The issue's attack over real HTTP: the TCP peer is the loopback 'proxy' and the
    attacker and the editor differ only in the address the proxy appended."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    settings.LOGIN_THROTTLE_AFTER = 10  # the default
    EditorFactory(username="editor")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def sign_in(password, address):
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
        headers = {"X-Forwarded-For": address}
        url = f"{live_server.url}{LOGIN}"
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as page:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token.group(1), "username": "editor", "password": password}
        ).encode()
        request = urllib.request.Request(url, data=body, headers={**headers, "Referer": url})
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.headers.get("Location")
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location")

    answers = [sign_in("wrong", "198.51.100.1")[0] for _ in range(5)]
    assert answers == [200] * 4 + [429]  # the fifth failure locks the attacker's own pair
    assert sign_in(PASSWORD, "198.51.100.1")[0] == 429
    assert sign_in(PASSWORD, "192.0.2.99") == (302, "/admin/")
