from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from accounts.policy import has_second_factor, needs_verification

NO_FACTOR_NEEDED_KEY = "_second_factor_not_needed"


class AdminSecondFactorMiddleware:
    """Keep a signed-in staff member who owes a second factor out of the admin.

    After the password, someone with an app or a passkey is sent to prove it; someone the
    second factor is required of (ADMIN_REQUIRE_2FA) who has none yet is sent to set one
    up. Only the pages needed for that, and signing out, stay open.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.check(request)
        return response if response is not None else self.get_response(request)

    def check(self, request):
        user = request.user
        if not (user.is_authenticated and user.is_staff) or user.is_verified():
            return None
        admin_root = reverse("admin:index")
        if not request.path.startswith(admin_root):
            return None
        open_paths = (
            reverse("admin:logout"),
            reverse("admin:login"),
            reverse("accounts:verify"),
            reverse("admin:jsi18n"),
            reverse("otp_webauthn:js-i18n-catalog"),
            reverse("otp_webauthn:credential-authentication-begin"),
            reverse("otp_webauthn:credential-authentication-complete"),
        )
        if request.path in open_paths:
            return None
        # Asked once per session: the answer only changes when a factor is added, and
        # adding one (the app's page, a passkey) verifies this session anyway. Keeps
        # the admin's query budgets.
        if request.session.get(NO_FACTOR_NEEDED_KEY) == user.pk:
            return None
        if not needs_verification(user):
            request.session[NO_FACTOR_NEEDED_KEY] = user.pk
            return None
        if has_second_factor(user):
            target = reverse("accounts:verify")
        else:
            # Required but not set up yet: the set-up pages (and the passkey
            # registration behind them) are all that is open.
            setup_paths = (
                reverse("accounts:settings"),
                reverse("accounts:app"),
                reverse("otp_webauthn:credential-registration-begin"),
                reverse("otp_webauthn:credential-registration-complete"),
            )
            if request.path in setup_paths:
                return None
            target = reverse("accounts:settings")
        if request.method == "GET":
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return redirect(target)
