from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError

from accounts.codes import match_code
from newsroom import login_throttle

CODE_WIDGET = forms.TextInput(
    attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
)


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login, throttled per account (newsroom/login_throttle.py).

    While an account is throttled, a try with the password alone waits; the password with
    a one-time code (from the authenticator app, or a recovery code) is let through.
    A wrong password and a wrong code get the same answer, so the throttle never tells a
    guesser that a password was right.
    """

    otp_token = forms.CharField(
        label="One-time code",
        required=False,
        max_length=32,
        widget=CODE_WIDGET,
        help_text="From your authenticator app, or one of your recovery codes.",
    )

    throttled_message = (
        "Sign-ins to this account are being slowed down: there were many failed attempts "
        "from several places. Wait %(seconds)s second(s) and try again, or sign in now "
        "with your password and a one-time code from your authenticator app (or a "
        "recovery code)."
    )

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.throttle_seconds = 0

    def clean(self):
        username = self.cleaned_data.get("username")
        wait = login_throttle.wait_seconds(username) if username else 0
        if not wait:
            return super().clean()
        self.throttle_seconds = wait
        password = self.cleaned_data.get("password")
        code = (self.cleaned_data.get("otp_token") or "").replace(" ", "")
        if password and code:
            user = authenticate(self.request, username=username, password=password)
            device = match_code(user, code) if user is not None else None
            if device is not None:
                self.confirm_login_allowed(user)
                # django_otp's user_logged_in receiver marks the session verified.
                user.otp_device = device
                self.user_cache = user
                return self.cleaned_data
            if user is not None:  # the right password with a wrong code is a failure too
                login_throttle.record_failure(username)
        raise ValidationError(
            self.throttled_message, code="throttled", params={"seconds": max(1, wait)}
        )


class CodeForm(forms.Form):
    otp_token = forms.CharField(label="Code", max_length=32, widget=CODE_WIDGET, strip=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.device = None

    def clean_otp_token(self):
        code = self.cleaned_data["otp_token"].replace(" ", "")
        self.device = match_code(self.user, code)
        if self.device is None:
            raise ValidationError("That code is not right, or it has been used already.")
        return code


class ConfirmAppForm(forms.Form):
    otp_token = forms.CharField(label="Code from the app", max_length=8, widget=CODE_WIDGET)

    def __init__(self, *args, device, **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_otp_token(self):
        code = self.cleaned_data["otp_token"].replace(" ", "")
        if not self.device.verify_token(code):
            raise ValidationError(
                "That code is not right. Check the time on your phone and try the next one."
            )
        return code
