"""Count the public articles of each week again (ListingWeek, the latest stream's seek)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from articles.models import Article, ListingWeek
from articles.queries import WEEK_SECONDS

# As migration 0014 counts them.
WEEK = f"floor(extract(epoch FROM publish_at) / {WEEK_SECONDS})::bigint"


class Command(BaseCommand):
    help = (
        "Count the articles of a public status in each week again and store the counts "
        "the latest stream's deep pages seek by (PostgreSQL; its triggers keep them). "
        "Needed only after articles were written with triggers off (a data-only restore "
        "with --disable-triggers, session_replication_role = replica). --check only "
        "reports, and fails when a count is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="report, change nothing")

    def handle(self, *args, check, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("Nothing to count: the seek is used on PostgreSQL only.")
            return
        statuses = ", ".join(["%s"] * len(Article.PUBLIC_STATUSES))
        counted = (
            f"SELECT {WEEK} AS week, count(*) AS articles FROM {Article._meta.db_table} "
            f"WHERE status IN ({statuses}) GROUP BY 1"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            # Writers wait while the counts are made, so none is lost between the two.
            cursor.execute(f"LOCK TABLE {Article._meta.db_table} IN SHARE MODE")
            cursor.execute(counted, Article.PUBLIC_STATUSES)
            right = dict(cursor.fetchall())
            kept = dict(ListingWeek.objects.exclude(articles=0).values_list("week", "articles"))
            wrong = {
                week for week in right.keys() | kept.keys() if right.get(week) != kept.get(week)
            }
            if check:
                if wrong:
                    raise CommandError(
                        f"{len(wrong)} weeks' counts are wrong; run without --check."
                    )
                self.stdout.write(f"All {len(right)} weeks' counts are right.")
                return
            ListingWeek.objects.all().delete()
            ListingWeek.objects.bulk_create(
                ListingWeek(week=week, articles=n) for week, n in sorted(right.items())
            )
        self.stdout.write(f"{len(right)} weeks counted again; {len(wrong)} were wrong.")
