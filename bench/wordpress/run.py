"""WordPress import benchmark: 10,000 posts and 2,000 attachments from --media-dir.

    .venv/bin/python bench/wordpress/run.py [--posts 10000] [--attachments 2000] [--json FILE]

The database is WORDPRESS_BENCH_DATABASE_URL, by default postgres://postgres@127.0.0.1:5432/
newsroom_wordpress_bench; it is dropped and created again first (never point it at real
data); DATABASE_URL is ignored. Media go to a temporary MEDIA_ROOT. The export and its
uploads folder are made by bench/wordpress/generate.py into var/bench-wordpress/ (kept
between runs: same arguments, same files).

It runs `manage.py import_wordpress` as an operator would (production settings, the
database task backend: renditions are queued for the worker, not made), then runs it a
second time (nothing to do: the idempotent path), and reports wall-clock times, posts
per second, the peak memory of each run and what was stored.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


def run_import(env, export, uploads, csv_path):
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    load = os.getloadavg()[0]
    started = time.perf_counter()
    result = subprocess.run(
        [PYTHON, "manage.py", "import_wordpress", str(export), "--media-dir", str(uploads),
         "--problems-csv", str(csv_path), "-v", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if result.returncode:
        sys.exit(result.stderr)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    load = (load + os.getloadavg()[0]) / 2
    print(f"{elapsed:.1f} s wall, {cpu:.1f} s CPU of the import process, load average ~{load:.1f}")
    return elapsed, max(usage.ru_maxrss, before) / 1024, result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10000)
    parser.add_argument("--attachments", type=int, default=2000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    data = ROOT / "var" / "bench-wordpress" / f"{args.posts}-{args.attachments}"
    export, uploads = data / "export.xml", data / "uploads"
    if not export.exists():
        print(f"Generating {export} …", flush=True)
        subprocess.run(
            [PYTHON, str(HERE / "generate.py"), str(data), "--posts", str(args.posts),
             "--attachments", str(args.attachments)],
            check=True,
        )  # fmt: skip

    url = os.environ.get(
        "WORDPRESS_BENCH_DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/newsroom_wordpress_bench",
    )
    name = urlsplit(url).path.lstrip("/")
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    media = tempfile.mkdtemp(prefix="wp-bench-media-")
    env = dict(os.environ, DATABASE_URL=url, MEDIA_ROOT=media, DEBUG="0",
               SECRET_KEY="wordpress-benchmark-only-" + "x" * 40,
               SITE_URL="http://127.0.0.1:8114")  # fmt: skip
    env.pop("REDIS_URL", None)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)

    csv_path = Path(media) / "problems.csv"
    first, first_peak, report = run_import(env, export, uploads, csv_path)
    print(report)
    second, _, report_again = run_import(env, export, uploads, csv_path)
    print(report_again)
    counts = subprocess.run(
        [PYTHON, "manage.py", "shell", "-v", "0", "-c",
         "from articles.models import Article, Image; from wordpress.models import LegacyURL; "
         "from django_tasks_db.models import DBTaskResult; "
         "print(Article.objects.count(), Image.objects.count(), LegacyURL.objects.count(), "
         "DBTaskResult.objects.count())"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    figures = {
        "posts": args.posts,
        "attachments": args.attachments,
        "export_mb": round(export.stat().st_size / 1e6, 1),
        "first_run_seconds": round(first, 1),
        "posts_per_second": round(args.posts / first, 1),
        "second_run_seconds": round(second, 1),
        "peak_memory_mib": round(first_peak),
        "articles": int(counts[0]),
        "images": int(counts[1]),
        "legacy_urls": int(counts[2]),
        "rendition_tasks_queued": int(counts[3]),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
