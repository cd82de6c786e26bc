"""Security headers, read off real responses of the public site, the admin and the
newsletter pages, in development and in production mode."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from tests.factories import ArticleFactory, StaffFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
}


def csp_directives(response):
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def public_paths():
    article = ArticleFactory(published=True)
    return ["/", article.get_absolute_url(), "/newsletter/", "/search/?q=vote"]


def test_public_pages_send_a_strict_content_security_policy(client, public_paths):
    for path in public_paths:
        response = client.get(path)
        assert response.status_code == 200, path
        directives = csp_directives(response)
        assert directives["default-src"] == ["'self'"], path
        assert "'unsafe-inline'" not in directives["script-src"], path
        assert "'unsafe-eval'" not in directives["script-src"], path
        assert directives["frame-ancestors"] == ["'none'"], path
        assert directives["object-src"] == ["'none'"], path
        assert directives["base-uri"] == ["'self'"], path


def test_public_pages_send_the_browser_hardening_headers(client, public_paths):
    for path in public_paths:
        response = client.get(path)
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin", path
        assert response["X-Frame-Options"] == "DENY", path
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", path
        policy = response["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "browsing-topics=()"):
            assert feature in policy, (path, feature)


def test_the_admin_login_sends_the_same_headers(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "'unsafe-inline'" not in csp_directives(response)["script-src"]
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/articles/article/add/",
        "/admin/articles/image/add/",
        "/admin/articles/author/add/",
        "/admin/newsletter/issue/add/",
    ],
)
def test_admin_scripts_carry_the_nonce_the_policy_allows(client, path):
    """Every <script> on an admin page (the prose editor's included) is an external
    file or carries this response's nonce, and no element has an inline handler, so
    the admin works without 'unsafe-inline' for scripts."""
    client.force_login(StaffFactory(is_superuser=True))
    response = client.get(path)
    assert response.status_code == 200
    nonce = next(
        value[len("'nonce-") : -1]
        for value in csp_directives(response)["script-src"]
        if value.startswith("'nonce-")
    )
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts
    for tag in scripts:
        assert "src=" in tag or f'nonce="{nonce}"' in tag, tag
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "an inline event handler"
    assert 'href="javascript:' not in html


def test_the_health_check_sends_the_headers_too(client):
    response = client.get("/healthz")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]


@override_settings(**PRODUCTION)
def test_production_redirects_plain_http_to_https(client):
    response = client.get("/", secure=False)
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@override_settings(**PRODUCTION)
def test_production_sends_hsts_over_https(client, public_paths):
    for path in public_paths:
        response = client.get(path, secure=True)
        assert response.status_code == 200, path
        assert (
            response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        ), path


@override_settings(**PRODUCTION)
def test_production_trusts_the_proxy_scheme_header(client):
    response = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response


@override_settings(**PRODUCTION)
def test_production_session_and_csrf_cookies_are_secure_and_http_only(client):
    staff = StaffFactory(username="night-editor", is_superuser=True)
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": staff.username, "password": "correct horse battery staple"},
        secure=True,
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] == "Lax"
    # Signing in rotates the CSRF token, so the same response sets that cookie too.
    assert response.cookies["csrftoken"]["secure"]


def test_development_does_not_send_hsts(client):
    response = client.get("/")
    assert "Strict-Transport-Security" not in response


def production_environment(**extra):
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST")
    }
    environ.update(
        SITE_URL="https://news.example.com",
        SECRET_KEY="test-" + "k" * 60,
        EMAIL_HOST="smtp.example.com",
        **extra,
    )
    return environ


def test_settings_for_an_https_site_turn_on_transport_security():
    """The real settings module, loaded as production loads it (SITE_URL https://)."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SECURE_PROXY_SSL_HEADER, s.SECURE_REFERRER_POLICY, s.TRUSTED_PROXY_COUNT]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=production_environment(DJANGO_SETTINGS_MODULE="newsroom.settings"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == (
        '[false, true, 31536000, true, true, true, ["HTTP_X_FORWARDED_PROTO", "https"], '
        '"strict-origin-when-cross-origin", 1]'
    )


def test_deploy_check_has_no_warnings_in_production():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_environment(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
