"""An editor sets up and uses a second factor in Chromium: an authenticator app (codes
computed as the app would), and a passkey held by Chromium's virtual authenticator
(CDP WebAuthn domain)."""

import re
import time

import pytest

from tests.accounts.helpers import current_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def required(settings):
    settings.ADMIN_REQUIRE_2FA = True


def fresh_code(device):
    """A code the app shows now or next: a TOTP code works once, and django-otp accepts
    the next step's code too (tolerance 1), as when a phone's clock runs a little fast."""
    device.refresh_from_db()
    used_now = int((time.time() - device.t0) // device.step) <= device.last_t
    return current_code(device, offset_steps=1 if used_now else 0)


def test_an_editor_sets_up_an_app_then_signs_in_with_it(new_page, editor, required):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page = new_page()
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(editor.username)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    # A required role without a second factor is taken to set one up.
    page.wait_for_url("**/admin/two-factor/?next=*")
    assert "Your role needs a second factor" in page.content()
    page.get_by_role("link", name="Set up an authenticator app").click()
    page.locator(".qr-code svg").wait_for()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    device = TOTPDevice.objects.get(user=editor.user, confirmed=False)
    assert re.fullmatch(r"[A-Z2-7]+", secret)
    page.get_by_label("Code from the app").fill(current_code(device))
    page.get_by_role("button", name="Confirm").click()
    page.locator("#recovery-codes").wait_for()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="I have kept them").click()
    page.goto("/admin/")
    assert page.url.endswith("/admin/")

    page.context.clear_cookies()
    editor.log_in(page, second_factor=lambda: fresh_code(device))
    assert page.url.endswith("/admin/")

    # A recovery code works once, when the phone is lost.
    page.context.clear_cookies()
    editor.log_in(page, second_factor=lambda: codes[0])
    assert "9 left" in page.content()


def test_an_editor_registers_a_passkey_and_signs_in_with_it(
    browser, live_server, settings, editor, required
):
    from django_otp_webauthn.models import WebAuthnCredential

    # WebAuthn needs a domain name (never an IP address) in a secure context: Chromium
    # treats http://localhost as one.
    site = live_server.url.replace("127.0.0.1", "localhost")
    settings.SITE_URL = site
    context = browser.new_context(base_url=site, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )["authenticatorId"]

    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(editor.username)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/two-factor/?next=*")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_selector("#passkeys")  # the page reloads with the passkey listed
    assert WebAuthnCredential.objects.filter(user=editor.user, confirmed=True).count() == 1
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1
    page.goto("/admin/")
    assert page.url.endswith("/admin/")

    context.clear_cookies()
    editor.log_in(page, second_factor="passkey")
    assert page.url.endswith("/admin/")
    credential = WebAuthnCredential.objects.get(user=editor.user)
    assert credential.last_used_at is not None
    assert not errors, errors
    context.close()
