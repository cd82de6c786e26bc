"""Send benchmark: one round-up to 100,000 subscribers, against the limit of plain smtplib.

    .venv/bin/python bench/send/run.py [--subscribers 100000] [--workers 1 2]
        [--sink postfix|aiosmtpd] [--json FILE]

The database is SEND_BENCH_DATABASE_URL, by default postgres://postgres@127.0.0.1:5432/
newsroom_send_bench (created when missing); DATABASE_URL is ignored, so the page
benchmarks' database (or a real one) exported there is never touched. Its newsletter
data is deleted first: never point this at real data. The sink is Postfix's smtp-sink (Debian package postfix), run
as a plain process on a free loopback port: written in C, it takes little CPU from the
senders, and `-c` makes it count completed mail transactions. `--sink aiosmtpd`
(bench/send/sink.py) records every recipient instead, at a cost in CPU.

For each worker count N, in one run:

1. the limit: N processes of plain smtplib (bench/send/raw.py) send the bytes of the
   real round-up as rendered for one subscriber, one message per subscriber, opening a
   new connection every NEWSLETTER_BATCH_SIZE messages as the workers do;
2. the real thing: a fresh issue is queued for every subscriber and N worker processes
   (bench/send/worker.py, each running what `db_worker` runs for a round-up) send it;
3. exactly once: the sink's count of messages equals the number of subscribers, and
   every delivery row is sent with attempts = 1 (everyone got at least one; with the
   count, nobody got two).

Messages per second are wall clock, from starting the processes to the last one ending.
Peak memory is each process's maximum resident set. The table compares one worker with
one raw process (target >= 0.70), two workers with one (target >= 1.6), and each
worker's peak memory with 150 MiB, then names the targets missed. Benchmarks are run
by hand, never by `make test`; the ratios are measured in one run on one machine.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
# Its own variable: this script empties the newsletter tables of its database.
os.environ["DATABASE_URL"] = os.environ.get(
    "SEND_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/newsroom_send_bench"
)
# As in production: DEBUG off (it would also log every query), so a secret key is needed.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "send-benchmark-only-" + "x" * 40)

ARTICLES = 14  # a round-up drafts up to 20; 14 short ones make a message of about 20 KB
ONE_WORKER_VS_RAW = 0.70
TWO_WORKERS_VS_ONE = 1.6
PEAK_MIB = 150


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
    articles = list(Article.objects.published()[:ARTICLES])
    for n in range(len(articles), ARTICLES):
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


def rendered_message(issue):
    """The bytes a worker sends the first subscriber: the raw senders' message."""
    from newsletter.sending import PreparedRoundup

    delivery = issue.deliveries.select_related("subscriber").order_by("pk").first()
    return PreparedRoundup.for_issue(issue).message_for(delivery.subscriber).raw


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port):
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the sink did not start on port {port}")


class PostfixSink:
    """smtp-sink with -c: it rewrites a line `sess=… quit=… mesg=N` after every message."""

    def __init__(self, port, workdir):
        self.counter = Path(workdir) / f"smtp-sink-{port}.out"
        # -u: smtp-sink refuses to run as root without a user to switch to.
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        with open(self.counter, "wb") as out:
            self.process = subprocess.Popen(
                ["/usr/sbin/smtp-sink", "-c", *user, f"127.0.0.1:{port}", "256"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(port)

    def stop(self):
        """Stop the sink; the number of messages it accepted."""
        self.process.terminate()
        self.process.wait()
        counts = re.findall(rb"mesg=(\d+)", self.counter.read_bytes())
        return {"messages": int(counts[-1]) if counts else 0}


class AiosmtpdSink:
    """bench/send/sink.py: counts every recipient, reports duplicates."""

    def __init__(self, port, workdir):
        self.report = Path(workdir) / f"aiosmtpd-{port}.json"
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "sink.py"), str(port), str(self.report)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def stop(self):
        self.process.terminate()
        self.process.wait()
        return json.loads(self.report.read_text())


SINKS = {"postfix": PostfixSink, "aiosmtpd": AiosmtpdSink}


def timed(commands, env=None):
    """Start the processes together; (wall seconds, each one's JSON line)."""
    started = time.perf_counter()
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        for command in commands
    ]
    outputs = [p.communicate()[0] for p in procs]
    wall = time.perf_counter() - started
    for proc, output in zip(procs, outputs, strict=True):
        if proc.returncode:
            raise RuntimeError(f"{proc.args} failed ({proc.returncode}): {output[-2000:]}")
    return wall, [json.loads(output.strip().splitlines()[-1]) for output in outputs]


def shares(total, parts):
    """(first, count) for each of `parts` processes splitting `total` messages."""
    size, extra = divmod(total, parts)
    first = 0
    for n in range(parts):
        count = size + (1 if n < extra else 0)
        yield first, count
        first += count


def run_raw(processes, subscribers, message_file, sink_kind, workdir, batch_size):
    port = free_port()
    sink = SINKS[sink_kind](port, workdir)
    try:
        wall, results = timed(
            [
                sys.executable,
                str(HERE / "raw.py"),
                str(port),
                str(message_file),
                str(first),
                str(count),
                str(batch_size),
            ]
            for first, count in shares(subscribers, processes)
        )
    finally:
        received = sink.stop()
    return {
        "processes": processes,
        "wall_seconds": round(wall, 2),
        "messages_per_second": round(subscribers / wall),
        "per_process": results,
        "sink": received,
        "exactly_once": received["messages"] == subscribers,
    }


def run_workers(issue, workers, subscribers, sink_kind, workdir):
    from newsletter.models import Delivery

    port = free_port()
    sink = SINKS[sink_kind](port, workdir)
    env = {
        **os.environ,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "NEWSLETTER_MAX_PER_SECOND": "0",
        "LOG_LEVEL": "WARNING",
    }
    try:
        command = [sys.executable, str(HERE / "worker.py"), str(issue.pk)]
        wall, results = timed([command] * workers, env=env)
    finally:
        received = sink.stop()
    deliveries = issue.deliveries.all()
    sent_once = deliveries.filter(status=Delivery.Status.SENT, attempts=1).count()
    issue.refresh_from_db()
    exactly_once = (
        received["messages"] == subscribers
        and received.get("distinct", subscribers) == subscribers
        and deliveries.count() == subscribers
        and sent_once == subscribers
    )
    return {
        "workers": workers,
        "wall_seconds": round(wall, 2),
        "messages_per_second": round(subscribers / wall),
        "per_worker": results,
        "sink": received,
        "deliveries_sent_once": sent_once,
        "issue_status": issue.status,
        "exactly_once": exactly_once,
    }


def report(results):
    raw = {r["processes"]: r for r in results["raw"]}
    real = {r["workers"]: r for r in results["workers"]}
    failures = []
    print()
    header = (
        f"{'sender':<16} {'msg/s':>7} {'seconds':>8} {'peak MiB':>18}  "
        f"{'sink':>7} {'exactly once':>12}"
    )
    print(header)
    print("-" * len(header))
    for label, row, each in [
        *((f"raw smtplib x{n}", raw[n], raw[n]["per_process"]) for n in sorted(raw)),
        *((f"workers x{n}", real[n], real[n]["per_worker"]) for n in sorted(real)),
    ]:
        peaks = " ".join(f"{p['peak_mib']:.0f}" for p in each)
        print(
            f"{label:<16} {row['messages_per_second']:>7} {row['wall_seconds']:>8.1f} "
            f"{peaks:>18}  {row['sink']['messages']:>7} {'yes' if row['exactly_once'] else 'NO':>12}"
        )
        if not row["exactly_once"]:
            failures.append(f"{label} exactly once")
    print()

    def verdict(label, value, target, met, unit=""):
        print(f"{label}: {value:.2f}{unit} (target {target}) {'ok' if met else 'MISS'}")
        if not met:
            failures.append(label)

    if 1 in real and 1 in raw:
        ratio = real[1]["messages_per_second"] / raw[1]["messages_per_second"]
        verdict(
            "1 worker / raw 1 process", ratio, f">= {ONE_WORKER_VS_RAW}", ratio >= ONE_WORKER_VS_RAW
        )
    if 1 in real and 2 in real:
        ratio = real[2]["messages_per_second"] / real[1]["messages_per_second"]
        verdict(
            "2 workers / 1 worker", ratio, f">= {TWO_WORKERS_VS_ONE}", ratio >= TWO_WORKERS_VS_ONE
        )
    if 1 in raw and 2 in raw:
        ratio = raw[2]["messages_per_second"] / raw[1]["messages_per_second"]
        print(f"(for comparison, raw 2 processes / raw 1 process: {ratio:.2f})")
    peak = max(p["peak_mib"] for row in real.values() for p in row["per_worker"])
    verdict("peak memory per worker", peak, f"<= {PEAK_MIB} MiB", peak <= PEAK_MIB, " MiB")
    print()
    print("targets missed: " + (", ".join(failures) if failures else "none"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--sink", choices=sorted(SINKS), default="postfix")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    articles = seed(args.subscribers)
    results = {
        "subscribers": args.subscribers,
        "database": f"{connection.vendor} {connection.settings_dict['NAME']}",
        "sink": args.sink,
        "batch_size": settings.NEWSLETTER_BATCH_SIZE,
        "load_average_before": os.getloadavg(),
        "raw": [],
        "workers": [],
    }
    print(
        f"database {results['database']}; {args.subscribers} active subscribers; "
        f"{len(articles)} articles; sink {args.sink}; load average "
        + " ".join(f"{n:.2f}" for n in results["load_average_before"])
    )
    with tempfile.TemporaryDirectory(prefix="send-bench-") as workdir:
        for workers in args.workers:
            issue = new_issue(articles, f"{workers} workers")
            message = rendered_message(issue)
            message_file = Path(workdir) / "message.eml"
            message_file.write_bytes(message)
            results["message_bytes"] = len(message)
            raw = run_raw(
                workers,
                args.subscribers,
                message_file,
                args.sink,
                workdir,
                settings.NEWSLETTER_BATCH_SIZE,
            )
            results["raw"].append(raw)
            print(
                f"raw smtplib, {workers} process(es), {len(message)} bytes: "
                f"{raw['messages_per_second']} msg/s"
            )
            real = run_workers(issue, workers, args.subscribers, args.sink, workdir)
            results["workers"].append(real)
            print(f"{workers} worker(s): {real['messages_per_second']} msg/s")
    results["load_average_after"] = os.getloadavg()
    print("load average after: " + " ".join(f"{n:.2f}" for n in results["load_average_after"]))
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
