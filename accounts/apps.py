from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff accounts"

    def ready(self):
        from django.contrib import admin

        from accounts import signals  # noqa: F401 - connects the receivers
        from accounts.forms import AdminLoginForm

        # The admin's own login view and page, with the throttle and the one-time code.
        admin.site.login_form = AdminLoginForm
        admin.site.login_template = "accounts/login.html"
