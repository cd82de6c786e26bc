"""Codes as a person's authenticator app would show them."""

import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.codes import new_recovery_codes


def current_code(device, *, offset_steps=0):
    """The 6-digit code the app shows now (or `offset_steps` steps from now)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():06d}"


def give_app(user):
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def give_recovery_codes(user):
    return new_recovery_codes(user)
