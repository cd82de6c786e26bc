"""manage.py import_wordpress EXPORT.xml [EXPORT2.xml …] [--media-dir DIR]
[--media-base-url URL] [--dry-run] [--update] [--problems-csv PATH]"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from wordpress.importer import Report, WordPressImporter

DEFAULT_PROBLEMS_CSV = "wordpress-import-problems.csv"


class Command(BaseCommand):
    help = (
        "Import a WordPress export (WXR): posts become articles, attachments library "
        "images, and every old URL answers 301. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("exports", nargs="+", metavar="EXPORT.xml")
        parser.add_argument(
            "--media-dir",
            help="A copy of wp-content/uploads; files are found by their path under uploads/.",
        )
        parser.add_argument(
            "--media-base-url",
            help="Where the uploads folder is now online (replaces …/wp-content/uploads/ "
            "in the export's file URLs when downloading).",
        )
        parser.add_argument(
            "--dry-run", action="store_true",
            help="Read and check everything, report, and store nothing.",
        )  # fmt: skip
        parser.add_argument(
            "--update", action="store_true",
            help="Re-import posts that changed in the export (unless edited here since) "
            "and retry what had problems.",
        )  # fmt: skip
        parser.add_argument(
            "--problems-csv", default=DEFAULT_PROBLEMS_CSV,
            help=f"Where the list of problems is written (default: ./{DEFAULT_PROBLEMS_CSV}).",
        )  # fmt: skip

    def handle(self, *args, **options):
        paths = [Path(name) for name in options["exports"]]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"No such file: {path}")
        media_dir = options["media_dir"]
        if media_dir and not Path(media_dir).is_dir():
            raise CommandError(f"--media-dir is not a folder: {media_dir}")
        quiet = options["verbosity"] == 0

        def progress(**kwargs):
            return tqdm(file=sys.stderr, disable=quiet, leave=False, **kwargs)

        report = Report()
        importer = WordPressImporter(
            media_dir=media_dir,
            media_base_url=options["media_base_url"],
            dry_run=options["dry_run"],
            update=options["update"],
            progress=progress,
            report=report,
        )
        importer.run(paths)
        csv_path = Path(options["problems_csv"])
        report.write_csv(csv_path)
        self._print(report, csv_path, dry_run=options["dry_run"])

    def _print(self, report, csv_path, *, dry_run):
        title = "WordPress import (dry run: nothing was stored)" if dry_run else "WordPress import"
        self.stdout.write(self.style.MIGRATE_HEADING(title))
        for name, count in sorted(report.counts.items()):
            self.stdout.write(f"  {name}: {count}")
        if report.shortcodes:
            listed = ", ".join(
                f"[{name}] {count}" for name, count in report.shortcodes.most_common()
            )
            self.stdout.write(f"  unknown shortcodes kept as text: {listed}")
        style = self.style.WARNING if report.problems else self.style.SUCCESS
        self.stdout.write(
            style(f"{len(report.problems)} problems, listed with their WordPress IDs in {csv_path}")
        )
