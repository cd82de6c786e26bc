from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.urls import reverse

DEMO_PASSWORD = "newsroom-demo"
#: username: (what the account is for, is_superuser, groups, email). The editor and the
#: writer have the permissions of real staff, so the demo shows what real editors see.
DEMO_ACCOUNTS = {
    "editor": (
        "editor (Editor and Newsletter editor)",
        False,
        ["Editor", "Newsletter editor"],
        "editor@example.com",
    ),
    "writer": ("contributor (Contributor)", False, ["Contributor"], "writer@example.com"),
    "admin": ("administrator (superuser: accounts, groups)", True, [], "admin@example.com"),
}


class Command(BaseCommand):
    help = "Make sure the demo accounts exist (for a developer's machine) and print their login."

    def handle(self, *args, **options):
        admin_url = settings.SITE_URL + reverse("admin:index")
        for username, (role, is_superuser, groups, email) in DEMO_ACCOUNTS.items():
            user, created = get_user_model().objects.get_or_create(
                username=username, defaults={"email": email}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
            # An earlier version made `editor` a superuser: the roles are put right.
            user.is_staff = True
            user.is_superuser = is_superuser
            user.save()
            user.groups.add(*Group.objects.filter(name__in=groups))
            password = (
                DEMO_PASSWORD if created or user.check_password(DEMO_PASSWORD) else "(changed)"
            )
            self.stdout.write(
                f"Demo {role}: log in at {admin_url} as {username!r} with password {password!r}"
            )
