from django.conf import settings


def site(request):
    """Site-wide names for every template: the publication's name and address."""
    return {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "site_address": settings.SITE_ADDRESS,
    }
