"""Who must use a second factor, and which factors someone has."""

from django.conf import settings
from django_otp import devices_for_user

#: The roles a second factor is required of (with superusers) when ADMIN_REQUIRE_2FA is on.
REQUIRED_GROUPS = ("Editor", "Newsletter editor")


def requires_second_factor(user):
    if not settings.ADMIN_REQUIRE_2FA:
        return False
    return user.is_superuser or user.groups.filter(name__in=REQUIRED_GROUPS).exists()


def confirmed_devices(user):
    return list(devices_for_user(user, confirmed=True))


def has_second_factor(user):
    """Whether the user has set up an app or a passkey (recovery codes alone do not count:
    they are the way back in, not a factor to live on)."""
    return any(
        device.persistent_id.split("/")[0] != "otp_static.staticdevice"
        for device in confirmed_devices(user)
    )


def needs_verification(user):
    """A signed-in staff member who must prove a second factor before using the admin."""
    return has_second_factor(user) or requires_second_factor(user)
