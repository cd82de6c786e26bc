from django import forms
from django.utils.http import url_has_allowed_host_and_scheme

from newsletter.models import EMAIL_MAX_LENGTH, SubscriberEmailFormField, normalize_email


class SignupForm(forms.Form):
    email = SubscriberEmailFormField(
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={"inputmode": "email", "autocomplete": "email", "placeholder": "you@example.com"}
        ),
    )
    # The honeypot: hidden from people, filled in by bots that fill in everything.
    website = forms.CharField(required=False, max_length=200)
    source = forms.CharField(required=False, max_length=500)

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    @property
    def is_bot(self):
        return bool(self.data.get("website", "").strip())

    def consent_source(self, request, *, site_url):
        """The page the reader subscribed on, as an absolute URL on this site only."""
        path = self.cleaned_data.get("source") or ""
        if not path.startswith("/") or not url_has_allowed_host_and_scheme(
            path, allowed_hosts={request.get_host()}
        ):
            path = request.path
        return f"{site_url.rstrip('/')}{path}"[:500]


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV, UTF-8, with a header row: email, consent (yes/no).")
    source = forms.CharField(
        max_length=200,
        help_text="Where these people gave consent, e.g. “Sign-up sheet, Press Ball 2026”.",
    )


class IssueSendForm(forms.Form):
    confirm = forms.BooleanField(
        label="Yes, send this issue to every active subscriber now. It cannot be sent again."
    )
