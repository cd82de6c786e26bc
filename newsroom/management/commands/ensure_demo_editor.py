from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

DEMO_USERNAME = "editor"
DEMO_PASSWORD = "newsroom-demo"


class Command(BaseCommand):
    help = (
        "Make sure the demo editor account exists (for a developer's machine) and print its login."
    )

    def handle(self, *args, **options):
        user, created = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME,
            defaults={"is_staff": True, "is_superuser": True, "email": "editor@example.com"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(*Group.objects.filter(name__in=["Editor", "Newsletter editor"]))
        password = DEMO_PASSWORD if created or user.check_password(DEMO_PASSWORD) else "(changed)"
        self.stdout.write(
            f"Demo editor: log in at /admin/ as {DEMO_USERNAME!r} with password {password!r}"
        )
