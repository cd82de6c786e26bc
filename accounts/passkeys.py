"""Passkeys (django-otp-webauthn) bound to the site's own address."""

from urllib.parse import urlsplit

from django.conf import settings
from django_otp_webauthn.helpers import WebAuthnHelper


class PasskeyHelper(WebAuthnHelper):
    """The relying party is SITE_URL: its host is the passkeys' scope and its origin the
    only one a browser may use them from (read per request, so tests can move it)."""

    def get_relying_party_domain(self):
        return urlsplit(settings.SITE_URL).hostname

    def get_allowed_origins(self):
        site = urlsplit(settings.SITE_URL)
        return [f"{site.scheme}://{site.netloc}"]
