from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp import devices_for_user


class Command(BaseCommand):
    help = (
        "Remove every second factor (passkeys, authenticator apps, recovery codes) of a "
        "staff member who lost them. Their next sign-in asks them to set one up again "
        "(when their role requires one)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        removed = list(devices_for_user(user, confirmed=None))
        for device in removed:
            device.delete()
        names = ", ".join(sorted({device.name or type(device).__name__ for device in removed}))
        self.stdout.write(
            f"Removed {len(removed)} second factor(s) of {username!r}"
            + (f": {names}." if names else ".")
        )
