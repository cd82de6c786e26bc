"""Draw and keep the cards of every public article whose kept cards are not current."""

from django.core.management.base import BaseCommand

from articles import cards
from articles.models import Article


class Command(BaseCommand):
    help = (
        "Render and keep the cards of every public article whose kept cards are not "
        "current, newest first: after a deploy that changes how cards are drawn, so the "
        "archive's first visitors do not draw them (pages otherwise do, as they show them)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args, batch_size, **options):
        pks = list(
            Article.objects.published().newest_first().values_list("pk", flat=True).iterator()
        )
        drawn = 0
        for start in range(0, len(pks), batch_size):
            drawn += cards.keep_current(pks[start : start + batch_size])
        self.stdout.write(f"{drawn} of {len(pks)} public articles' cards drawn and kept.")
