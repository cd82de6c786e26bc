from django.core.management.base import BaseCommand

from newsletter import services


class Command(BaseCommand):
    help = (
        "Draft this week's round-up from the last seven days' published articles (featured "
        "first, then every section in turn), as the weekly task does. One draft per week."
    )

    def handle(self, *args, **options):
        issue, created = services.draft_roundup()
        if issue is None:
            self.stdout.write("No articles were published in the last seven days: nothing drafted.")
        elif created:
            self.stdout.write(
                f"Drafted “{issue}” with {issue.items.count()} articles (issue {issue.pk})."
            )
        else:
            self.stdout.write(
                f"This week's round-up is already drafted: “{issue}” (issue {issue.pk})."
            )
