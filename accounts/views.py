"""The admin's second-factor pages: verify after the password, and set up or remove an
authenticator app, passkeys and recovery codes. In the admin's look (admin/base_site)."""

import qrcode
import qrcode.image.svg
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts import codes
from accounts.forms import CodeForm, ConfirmAppForm
from accounts.policy import confirmed_devices, has_second_factor, requires_second_factor

PENDING_APP_KEY = "accounts_pending_totp"


def _context(request, title, **extra):
    return {**admin.site.each_context(request), "title": title, **extra}


def _next_url(request):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


def _passkeys(user):
    return list(WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk"))


@never_cache
@staff_member_required
def verify(request):
    """The second step of signing in: a code from the app, a recovery code or a passkey."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    if not has_second_factor(request.user):
        return redirect(reverse("accounts:settings"))
    form = CodeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        otp_login(request, form.device)
        if form.device.persistent_id.startswith("otp_static."):
            left = codes.recovery_codes_left(request.user)
            messages.warning(
                request,
                f"You signed in with a recovery code; {left} left. If you lost your phone "
                "or key, set up a new one and remove the old one now.",
            )
        return redirect(_next_url(request))
    devices = confirmed_devices(request.user)
    context = _context(
        request,
        "Confirm it is you",
        form=form,
        next=_next_url(request),
        has_app=any(isinstance(device, TOTPDevice) for device in devices),
        has_passkey=bool(_passkeys(request.user)),
    )
    return render(request, "accounts/verify.html", context, status=400 if form.errors else 200)


@never_cache
@staff_member_required
def two_factor_settings(request):
    user = request.user
    context = _context(
        request,
        "Two-factor sign-in",
        apps=TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"),
        passkeys=_passkeys(user),
        recovery_codes_left=codes.recovery_codes_left(user),
        has_second_factor=has_second_factor(user),
        required=requires_second_factor(user),
        next=_next_url(request),
    )
    return render(request, "accounts/settings.html", context)


def _qr_svg(text):
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return mark_safe(image.to_string(encoding="unicode"))


@never_cache
@staff_member_required
def add_app(request):
    """Set up an authenticator app: scan the code (or type the key), then prove it works."""
    user = request.user
    device = TOTPDevice.objects.filter(
        pk=request.session.get(PENDING_APP_KEY), user=user, confirmed=False
    ).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        request.session[PENDING_APP_KEY] = device.pk
    form = ConfirmAppForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        del request.session[PENDING_APP_KEY]
        if not request.user.is_verified():
            otp_login(request, device)
        messages.success(request, "Your authenticator app is set up.")
        if not codes.recovery_codes_left(user):
            return _show_recovery_codes(request, codes.new_recovery_codes(user))
        return redirect("accounts:settings")
    secret = _base32(device)
    context = _context(
        request,
        "Add an authenticator app",
        form=form,
        qr_code=_qr_svg(device.config_url),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    )
    return render(request, "accounts/app.html", context, status=400 if form.errors else 200)


def _base32(device):
    from base64 import b32encode

    return b32encode(device.bin_key).decode().rstrip("=")


def _show_recovery_codes(request, new_codes):
    context = _context(request, "Your recovery codes", codes=new_codes)
    response = render(request, "accounts/recovery_codes.html", context)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@staff_member_required
@require_POST
def recovery_codes(request):
    """A new set of recovery codes (the old ones stop working), shown once."""
    return _show_recovery_codes(request, codes.new_recovery_codes(request.user))


@never_cache
@staff_member_required
@require_POST
def remove_device(request):
    device = Device.from_persistent_id(request.POST.get("device", ""))
    # Only one's own devices; any other id is treated as one that does not exist.
    if device is not None and device.user_id == request.user.pk:
        device.delete()
        messages.success(request, f"Removed “{device.name}”.")
    return redirect("accounts:settings")
