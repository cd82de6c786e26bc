"""Send benchmark: one issue to 50,000 subscribers into a local SMTP sink.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_send_bench \
        .venv/bin/python bench/send/run.py [--subscribers 50000] [--workers 1 2]

The sink (aiosmtpd, bench/send/sink.py) runs in its own process; each worker
(bench/send/worker.py) is its own process with its own database connection and runs the
code `db_worker` runs for a round-up. For each worker count it reports messages per
second (wall clock, from starting the workers to the last one finishing), each worker's
share and peak memory, and checks the sink got every address exactly once.
The database is emptied of newsletter data first: never point this at real data.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/newsroom_send_bench")


def ensure_database(url):
    if not url.startswith("postgres"):
        return
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def seed(subscribers):
    from django.utils import timezone

    from articles.models import Article, Section
    from newsletter.models import Delivery, Issue, Subscriber

    Delivery.objects.all().delete()
    Issue.objects.all().delete()
    Subscriber.objects.all().delete()
    section, _ = Section.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    articles = list(Article.objects.published()[:8])
    for n in range(len(articles), 8):
        articles.append(
            Article.objects.create(
                title=f"Benchmark story number {n}: what happened and why it matters",
                slug=f"bench-story-{n}-{int(time.time())}",
                dek="A sentence of context under the headline, as editors write them.",
                section=section,
                status=Article.Status.PUBLISHED,
                publish_at=timezone.now(),
            )
        )
    batch = 5000
    for start in range(0, subscribers, batch):
        Subscriber.objects.bulk_create(
            Subscriber(email=f"reader{i}@bench.example", status=Subscriber.Status.ACTIVE)
            for i in range(start, min(start + batch, subscribers))
        )
    return articles


def new_issue(articles, label):
    from newsletter import sending, services
    from newsletter.models import Issue, IssueArticle

    issue = Issue.objects.create(
        subject=f"Benchmark round-up ({label})", intro="Welcome.\n\nRead on."
    )
    IssueArticle.objects.bulk_create(
        IssueArticle(issue=issue, article=a, position=i) for i, a in enumerate(articles)
    )
    services.start_sending(issue=issue, enqueue=False)
    sending.create_deliveries(issue)
    return issue


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink(kind, port, report):
    if kind == "postfix":
        # Postfix's smtp-sink (apt-get install postfix): C, so it takes no CPU from the
        # workers; it only counts, so duplicates are checked in the database instead.
        sink = subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "256"])
        import socket

        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return sink
            time.sleep(0.05)
        raise RuntimeError("smtp-sink did not start")
    sink = subprocess.Popen(
        [sys.executable, str(HERE / "sink.py"), str(port), str(report)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout.readline().strip() == "ready"
    return sink


def run(issue, workers, subscribers, sink_kind="aiosmtpd"):
    port = free_port()
    report = Path(f"/tmp/send-bench-sink-{port}.json")
    sink = start_sink(sink_kind, port, report)
    env = {
        **os.environ,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "NEWSLETTER_MAX_PER_SECOND": "0",
        "LOG_LEVEL": "WARNING",
    }
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, str(HERE / "worker.py"), str(issue.pk)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    wall = time.perf_counter() - started
    sink.terminate()
    sink.wait()
    if sink_kind == "postfix":
        received = {"messages": None, "distinct": subscribers, "duplicates": 0, "checked": False}
    else:
        received = json.loads(report.read_text())
        report.unlink()
    issue.refresh_from_db()
    return {
        "workers": workers,
        "wall_seconds": round(wall, 1),
        "messages_per_second": round(subscribers / wall),
        "per_worker": results,
        "sink": received,
        "issue_status": issue.status,
        "progress": issue.progress(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=50_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--sink",
        choices=["aiosmtpd", "postfix"],
        default="aiosmtpd",
        help="aiosmtpd counts every recipient; postfix's smtp-sink is faster but only the "
        "database's delivery rows are checked",
    )
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    articles = seed(args.subscribers)
    print(f"seeded {args.subscribers} active subscribers, {len(articles)} articles")
    for workers in args.workers:
        issue = new_issue(articles, f"{workers} workers")
        result = run(issue, workers, args.subscribers, args.sink)
        ok = (
            result["sink"]["distinct"] == args.subscribers
            and result["sink"]["duplicates"] == 0
            and result["progress"]["sent"] == args.subscribers
        )
        print(
            f"{workers} worker(s): {args.subscribers} messages in {result['wall_seconds']} s = "
            f"{result['messages_per_second']} msg/s; "
            + "; ".join(
                f"worker {i + 1}: {r['sent']} sent, peak {r['peak_mib']} MiB"
                for i, r in enumerate(result["per_worker"])
            )
            + f"; sink: {result['sink']['distinct']} distinct, "
            f"{result['sink']['duplicates']} duplicates -> {'OK' if ok else 'MISMATCH'}"
        )
        if not ok:
            print(json.dumps(result, indent=2, default=str))
            sys.exit(1)


if __name__ == "__main__":
    main()
