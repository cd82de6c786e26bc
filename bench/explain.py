"""EXPLAIN ANALYZE of every SQL query the public pages run on a cache miss.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_bench \\
        .venv/bin/python bench/explain.py [--full]

For the same pages as bench/pages.py (home, page 2,000, an article, a section, an
author, a tag, a search, the feed), captures the queries of one request that bypasses
the page cache, runs each through EXPLAIN (ANALYZE, BUFFERS) and prints its execution
time, the plan's top line, and any sequential scan or on-disk sort on a large table,
which are what goes wrong at 100,000 articles. --full prints the whole plans.
"""

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import environment, pages

LARGE_TABLES = (
    "articles_article",
    "articles_byline",
    "taggit_taggeditem",
    "articles_rendition",
    "articles_image",
    "articles_note",
    "newsletter_subscriber",
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--search", default="ceasefire sanctions")
    parser.add_argument("--page", type=int, default=2000)
    parser.add_argument("--only", help="comma-separated page names")
    parser.add_argument("--full", action="store_true", help="print the whole plans")
    return parser.parse_args()


def main():
    args = parse_args()
    environment.configure(port=8113)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        sys.exit("EXPLAIN ANALYZE here is for PostgreSQL: set DATABASE_URL.")
    urls, count = pages.choose_pages(args)
    print(f"{count} public articles")
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.SESSION_COOKIE_NAME] = pages.MISS_COOKIE
    for name, url in urls.items():
        client.get(url)  # warm the buffers: the figures are for a warm database
        with CaptureQueriesContext(connection) as captured:
            status = client.get(url).status_code
        queries = [query["sql"] for query in captured.captured_queries]
        print(f"\n=== {name} {url} ({status}, {len(queries)} queries)")
        for sql in queries:
            if "django_session" in sql:
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = [row[0] for row in cursor.fetchall()]
            total = next((line for line in plan if line.startswith("Execution Time")), "")
            print(f"- {total.replace('Execution Time: ', '')}  {sql[:150]}")
            print(f"    {plan[0].strip()[:160]}")
            for line in plan:
                if re.search(r"Seq Scan on (" + "|".join(LARGE_TABLES) + r")\b", line) or (
                    "Sort Method: external" in line
                ):
                    print(f"    ! {line.strip()[:160]}")
            if args.full:
                print("\n".join(f"      {line}" for line in plan))


if __name__ == "__main__":
    main()
