from django.core.management.base import BaseCommand

from articles.models import Article, Section

SECTIONS = ["Asia-Pacific", "Middle East", "Global Crises", "Media", "Europe", "Americas", "Briefs"]


class Command(BaseCommand):
    help = "Load the demo content (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if articles exist.")

    def handle(self, *args, if_empty=False, **options):
        if if_empty and Article.objects.exists():
            self.stdout.write("Demo content: the database already has articles; nothing to do.")
            return
        for position, name in enumerate(SECTIONS):
            Section.objects.get_or_create(
                name=name, defaults={"slug": name.lower().replace(" ", "-"), "position": position}
            )
        self.stdout.write("Demo content loaded.")
