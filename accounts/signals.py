"""Sign-in events feed the per-account throttle."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from newsroom import login_throttle


@receiver(user_login_failed)
def count_failure(sender, credentials, request=None, **kwargs):
    if credentials.get("username"):
        login_throttle.record_failure(credentials["username"])


@receiver(user_logged_in)
def start_over(sender, request, user, **kwargs):
    login_throttle.clear(user.get_username())
