from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

DEMO_PASSWORD = "newsroom-demo"
#: username: (is_superuser, groups, email)
DEMO_ACCOUNTS = {
    "editor": (True, ["Editor", "Newsletter editor"], "editor@example.com"),
    "writer": (False, ["Contributor"], "writer@example.com"),
}


class Command(BaseCommand):
    help = "Make sure the demo accounts exist (for a developer's machine) and print their login."

    def handle(self, *args, **options):
        for username, (is_superuser, groups, email) in DEMO_ACCOUNTS.items():
            user, created = get_user_model().objects.get_or_create(
                username=username,
                defaults={"is_staff": True, "is_superuser": is_superuser, "email": email},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(*Group.objects.filter(name__in=groups))
            password = (
                DEMO_PASSWORD if created or user.check_password(DEMO_PASSWORD) else "(changed)"
            )
            role = "editor" if is_superuser else "contributor"
            self.stdout.write(
                f"Demo {role}: log in at /admin/ as {username!r} with password {password!r}"
            )
