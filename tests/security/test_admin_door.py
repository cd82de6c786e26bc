"""The admin door: login limits per account and per address, unlocking, password
rules, the configurable admin path and the staff idle timeout."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command

from newsroom.env import ConfigError
from newsroom.middleware import LAST_SEEN_KEY
from newsroom.security import client_ip, read_admin_path
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
LOGIN = "/admin/login/?next=/admin/"


def attempt(client, username, password, ip="203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.fixture
def editor():
    return StaffFactory(username="editor")


@pytest.fixture(autouse=True)
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3


def test_a_wrong_password_below_the_limit_shows_the_usual_error(client, editor):
    response = attempt(client, "editor", "wrong")
    assert response.status_code == 200
    assert "Please enter the correct username and password" in response.text


def test_failures_lock_the_account_from_that_address_only(client, editor):
    for _ in range(3):
        attempt(client, "editor", "wrong", ip="198.51.100.1")
    locked = attempt(client, "editor", PASSWORD, ip="198.51.100.1")
    assert locked.status_code == 429
    assert "Sign-in is locked" in locked.text
    assert "Try again in 15 minutes" in locked.text
    assert locked["Retry-After"] == str(15 * 60)
    assert "_auth_user_id" not in client.session


def test_an_attacker_cannot_lock_an_editor_out_from_another_address(client, editor):
    """Issue 13, row 2: 5 wrong passwords for `editor` from one address, then the right
    password from another address: the editor gets in."""
    for _ in range(5):
        attempt(client, "editor", "wrong", ip="198.51.100.1")
    response = attempt(client, "editor", PASSWORD, ip="192.0.2.99")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_failures_for_other_accounts_do_not_lock_an_address(client, editor):
    for name in ("alice", "bob", "carol"):
        attempt(client, name, "guess", ip="203.0.113.50")
    assert attempt(client, "editor", PASSWORD, ip="203.0.113.50").status_code == 302


def test_a_locked_address_does_not_lock_other_addresses(client, editor):
    for name in ("alice", "bob", "carol"):
        attempt(client, name, "guess", ip="203.0.113.50")
    response = attempt(client, "editor", PASSWORD, ip="203.0.113.51")
    assert response.status_code == 302


def test_a_correct_sign_in_clears_earlier_failures(client, editor):
    attempt(client, "editor", "wrong")
    attempt(client, "editor", "wrong")
    assert attempt(client, "editor", PASSWORD).status_code == 302
    client.logout()
    attempt(client, "editor", "wrong")
    attempt(client, "editor", "wrong")
    assert attempt(client, "editor", PASSWORD).status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, editor, settings):
    from datetime import timedelta

    for _ in range(3):
        attempt(client, "editor", "wrong")
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    assert attempt(client, "editor", PASSWORD).status_code == 302


def test_an_admin_unlocks_an_account_from_the_admin(client, editor):
    for _ in range(3):
        attempt(client, "editor", "wrong")
    lock = AccessAttempt.objects.get(username="editor")

    admin = StaffFactory(username="chief", is_superuser=True)
    other = type(client)()
    other.force_login(admin)
    listing = other.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "editor" in listing.text
    response = other.post(
        f"/admin/axes/accessattempt/{lock.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert not AccessAttempt.objects.exists()
    assert attempt(client, "editor", PASSWORD).status_code == 302


def test_an_admin_unlocks_an_account_from_the_command_line(client, editor):
    for _ in range(3):
        attempt(client, "editor", "wrong")
    call_command("axes_reset_username", "editor")
    assert attempt(client, "editor", PASSWORD).status_code == 302


def test_the_lockout_page_escapes_the_username(client):
    for _ in range(3):
        attempt(client, "<script>alert('XSS')</script>", "x")
    response = attempt(client, "<script>alert('XSS')</script>", "x")
    assert response.status_code == 429
    assert "<script>alert" not in response.text


def test_the_client_address_comes_from_the_last_proxy_hop(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.4")
    assert client_ip(request) == "198.51.100.4"


def test_a_forged_forwarded_header_is_ignored_without_a_proxy(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert client_ip(request) == "198.51.100.4"


def test_an_unknown_client_address_is_none_and_does_not_break_a_forced_login(client, settings):
    """force_login() then requests from no real address ("unknown" from a proxy): axes
    must store no address rather than fail on the GenericIPAddressField (issue 8)."""
    settings.TRUSTED_PROXY_COUNT = 1
    admin = StaffFactory(username="chief", is_superuser=True)
    client.force_login(admin)
    response = client.get("/admin/", REMOTE_ADDR="unknown", HTTP_X_FORWARDED_FOR="unknown")
    assert response.status_code == 200
    assert client_ip(response.wsgi_request) is None


@pytest.mark.parametrize(
    "password",
    ["short1", "password123", "12345678901234", "editor2026"],
)
def test_weak_passwords_are_refused(password):
    user = UserFactory.build(username="editor", email="editor@example.com")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_strong_password_is_accepted():
    validate_password("violet-harbour-engine-42", UserFactory.build(username="editor"))


def test_the_admin_password_form_refuses_a_weak_password(client):
    admin = StaffFactory(username="chief", is_superuser=True)
    client.force_login(admin)
    response = client.post(
        f"/admin/auth/user/{admin.pk}/password/",
        {"password1": "12345678", "password2": "12345678"},
    )
    assert response.status_code == 200
    assert "This password is too common" in response.text


@pytest.mark.parametrize(
    "raw, expected",
    [("", "admin/"), ("desk", "desk/"), ("/back-office/", "back-office/"), ("a/b", "a/b/")],
)
def test_the_admin_path_is_read_from_the_environment(raw, expected):
    assert read_admin_path({"ADMIN_PATH": raw}) == expected


@pytest.mark.parametrize("raw", ["/", "../admin", "adm in/", "<x>/"])
def test_an_unusable_admin_path_stops_start_up(raw):
    with pytest.raises(ConfigError, match="ADMIN_PATH"):
        read_admin_path({"ADMIN_PATH": raw})


def test_the_admin_moves_to_the_configured_path():
    code = (
        "import django; django.setup(); from django.urls import reverse, resolve, Resolver404\n"
        "print(reverse('admin:index'), reverse('admin:login'))\n"
        "try:\n    resolve('/admin/')\nexcept Resolver404:\n    print('gone')"
    )
    import os

    env = {**os.environ, "ADMIN_PATH": "desk", "DJANGO_SETTINGS_MODULE": "newsroom.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.stdout.split() == ["/desk/", "/desk/login/", "gone"], result.stderr


def idle(client, seconds):
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - seconds
    session.save()


def test_staff_stay_signed_in_while_active(client, editor, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = 600
    client.force_login(editor)
    assert client.get("/admin/").status_code == 200
    idle(client, 590)
    assert client.get("/admin/").status_code == 200


def test_staff_are_signed_out_after_the_idle_time(client, editor, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = 600
    client.force_login(editor)
    client.get("/admin/")
    idle(client, 601)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/admin/login/")
    assert "signed out after 10 minutes without activity" in response.text
    assert "_auth_user_id" not in client.session


def test_activity_moves_the_idle_clock(client, editor, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = 600
    client.force_login(editor)
    idle(client, 500)
    client.get("/admin/")
    assert int(time.time()) - client.session[LAST_SEEN_KEY] < 5
