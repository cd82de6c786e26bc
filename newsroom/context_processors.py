from django.conf import settings
from django.utils.translation import to_locale


def site(request):
    """Site-wide names for every template: the publication's name, address and language."""
    return {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "site_address": settings.SITE_ADDRESS,
        "html_lang": html_lang(),
    }


def html_lang():
    """LANGUAGE_CODE as a BCP 47 tag for <html lang>: "en-gb" is "en-GB"."""
    return to_locale(settings.LANGUAGE_CODE).replace("_", "-")


def og_locale():
    """LANGUAGE_CODE as Open Graph writes it: "en-gb" is "en_GB"."""
    return to_locale(settings.LANGUAGE_CODE)
