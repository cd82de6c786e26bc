"""The admin's second factor through real requests: required roles, opting in, the
verification step, recovery codes, removing devices and the superuser's reset."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.helpers import current_code, give_app, give_recovery_codes
from tests.factories import ContributorFactory, EditorFactory, StaffFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def required(settings):
    settings.ADMIN_REQUIRE_2FA = True


def forget_wrong_guesses():
    """django-otp makes each try after a wrong code wait (1 s, then 2, 4 …): a person
    would wait that second; the test lifts it instead."""
    TOTPDevice.objects.update(throttling_failure_count=0, throttling_failure_timestamp=None)


def test_wrong_codes_make_the_next_try_wait(client):
    editor = EditorFactory(username="chief")
    device = give_app(editor)
    sign_in(client, "chief")
    client.post("/admin/two-factor/verify/", {"otp_token": "000000"})
    # Even the right code is refused during the wait: guessing a million codes is slow.
    assert (
        client.post("/admin/two-factor/verify/", {"otp_token": current_code(device)}).status_code
        == 400
    )


def sign_in(client, username):
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.status_code
    return response


def newsletter_editor():
    user = StaffFactory(username="letters")
    user.groups.add(Group.objects.get(name="Newsletter editor"))
    return user


@pytest.mark.parametrize(
    "make",
    [
        lambda: EditorFactory(username="chief"),
        newsletter_editor,
        lambda: StaffFactory(username="root", is_superuser=True),
    ],
    ids=["editor", "newsletter editor", "superuser"],
)
def test_a_required_role_without_a_second_factor_must_set_one_up(client, required, make):
    user = make()
    sign_in(client, user.username)
    for url in ("/admin/", "/admin/articles/article/", "/admin/auth/user/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/two-factor/?next=")
    page = client.get("/admin/two-factor/")
    assert page.status_code == 200
    assert "Your role needs a second factor" in page.text
    # A POST elsewhere in the admin is refused too.
    assert client.post("/admin/articles/section/add/", {"name": "x"}).status_code == 302


def test_setting_up_an_app_through_its_page_opens_the_admin(client, required):
    editor = EditorFactory(username="chief")
    sign_in(client, "chief")
    page = client.get("/admin/two-factor/app/")
    assert page.status_code == 200
    assert "<svg" in page.text
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text).group(1)
    device = TOTPDevice.objects.get(user=editor, confirmed=False)
    from base64 import b32encode

    assert secret.replace(" ", "") == b32encode(device.bin_key).decode().rstrip("=")
    wrong = client.post("/admin/two-factor/app/", {"otp_token": "000000"})
    assert wrong.status_code == 400
    forget_wrong_guesses()
    done = client.post("/admin/two-factor/app/", {"otp_token": current_code(device)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.text)
    assert len(codes) == 10
    assert "no-store" in done["Cache-Control"]
    assert client.get("/admin/").status_code == 200


def test_with_an_app_the_password_alone_does_not_open_the_admin(client):
    """Also with ADMIN_REQUIRE_2FA off: whoever set up a factor is asked for it."""
    editor = EditorFactory(username="chief")
    device = give_app(editor)
    sign_in(client, "chief")
    response = client.get("/admin/articles/article/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/two-factor/verify/?next=%2Fadmin%2Farticles%2Farticle%2F"
    assert client.get("/admin/two-factor/").status_code == 302  # its settings too
    wrong = client.post("/admin/two-factor/verify/", {"otp_token": "123456", "next": "/admin/"})
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.text
    forget_wrong_guesses()
    right = client.post(
        "/admin/two-factor/verify/",
        {"otp_token": current_code(device), "next": "/admin/articles/article/"},
    )
    assert right.status_code == 302
    assert right["Location"] == "/admin/articles/article/"
    assert client.get("/admin/articles/article/").status_code == 200


def test_a_code_cannot_be_used_twice(client):
    editor = EditorFactory(username="chief")
    device = give_app(editor)
    code = current_code(device)
    sign_in(client, "chief")
    assert client.post("/admin/two-factor/verify/", {"otp_token": code}).status_code == 302
    client.logout()
    sign_in(client, "chief")
    assert client.post("/admin/two-factor/verify/", {"otp_token": code}).status_code == 400


def test_a_recovery_code_works_once_and_the_page_says_how_many_are_left(client):
    editor = EditorFactory(username="chief")
    give_app(editor)
    codes = give_recovery_codes(editor)
    sign_in(client, "chief")
    response = client.post("/admin/two-factor/verify/", {"otp_token": codes[0]}, follow=True)
    assert response.status_code == 200
    assert "9 left" in response.text
    client.logout()
    sign_in(client, "chief")
    assert client.post("/admin/two-factor/verify/", {"otp_token": codes[0]}).status_code == 400
    assert StaticToken.objects.filter(device__user=editor).count() == 9


def test_the_next_after_verification_stays_on_this_site(client):
    editor = EditorFactory(username="chief")
    device = give_app(editor)
    sign_in(client, "chief")
    response = client.post(
        "/admin/two-factor/verify/",
        {"otp_token": current_code(device), "next": "https://evil.example/"},
    )
    assert response["Location"] == "/admin/"


def test_a_contributor_may_go_without_and_may_opt_in(client, required):
    contributor = ContributorFactory(username="writer")
    sign_in(client, "writer")
    assert client.get("/admin/").status_code == 200
    page = client.get("/admin/two-factor/")
    assert "Set up an authenticator app" in page.text
    client.get("/admin/two-factor/app/")
    device = TOTPDevice.objects.get(user=contributor)
    client.post("/admin/two-factor/app/", {"otp_token": current_code(device)})
    client.logout()
    sign_in(client, "writer")
    assert client.get("/admin/").status_code == 302  # opted in: asked from now on


def test_without_the_setting_an_editor_without_a_factor_goes_straight_in(client, settings):
    settings.ADMIN_REQUIRE_2FA = False
    EditorFactory(username="chief")
    sign_in(client, "chief")
    assert client.get("/admin/").status_code == 200


def test_nobody_can_remove_someone_elses_device(client):
    victim = EditorFactory(username="victim")
    device = give_app(victim)
    attacker = ContributorFactory(username="writer")
    client.force_login(attacker)
    client.post("/admin/two-factor/remove/", {"device": device.persistent_id})
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_new_recovery_codes_replace_the_old_ones(client):
    editor = EditorFactory(username="chief")
    device = give_app(editor)
    old = give_recovery_codes(editor)
    sign_in(client, "chief")
    client.post("/admin/two-factor/verify/", {"otp_token": current_code(device)})
    response = client.post("/admin/two-factor/recovery-codes/")
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.text)
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new)


def test_registering_a_passkey_needs_the_second_factor_first(client):
    editor = EditorFactory(username="chief")
    give_app(editor)
    sign_in(client, "chief")
    response = client.post("/admin/two-factor/passkeys/registration/begin/")
    assert response.status_code in (302, 403)


def test_a_superuser_resets_a_lost_second_factor_from_the_command_line(client, capsys):
    editor = EditorFactory(username="chief")
    give_app(editor)
    give_recovery_codes(editor)
    call_command("reset_two_factor", "chief")
    assert "Removed 2 second factor(s) of 'chief'" in capsys.readouterr().out
    assert not TOTPDevice.objects.filter(user=editor).exists()
    sign_in(client, "chief")
    assert client.get("/admin/").status_code == 200


def test_the_reset_command_names_an_unknown_user(capsys):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("reset_two_factor", "ghost")


@pytest.mark.parametrize(
    ("site_url", "expected"),
    [("https://news.example.com", "True"), ("http://127.0.0.1:8000", "False")],
)
def test_the_second_factor_is_required_by_default_on_https_sites(site_url, expected):
    code = "import django; django.setup(); from django.conf import settings; print(settings.ADMIN_REQUIRE_2FA)"
    env = {
        **{k: v for k, v in os.environ.items() if k != "ADMIN_REQUIRE_2FA"},
        "SITE_URL": site_url,
        "SECRET_KEY": "x" * 60,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == expected, result.stderr
