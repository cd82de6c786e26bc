"""One-time codes: authenticator apps (TOTP) and recovery codes (django-otp's static
tokens). Both device kinds throttle wrong guesses themselves (django-otp's
ThrottlingMixin: each failure doubles the wait before the next try)."""

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"


def match_code(user, code):
    """The device that accepts `code` (and uses it up), or None.

    Six digits are an app's code; anything else is tried as a recovery code. So a
    mistyped app code does not count against the recovery codes, nor the reverse.
    """
    code = (code or "").replace(" ", "").replace("-", "").lower()
    if not code or user is None:
        return None
    model = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(code):
                return device
    return None


def new_recovery_codes(user):
    """Replace the user's recovery codes with a fresh set; returns the codes (shown once)."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
