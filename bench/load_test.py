"""A bounded loopback load test with a database outage in the middle.

    .venv/bin/python bench/load_test.py                 # 2 minutes, 32 clients
    .venv/bin/python bench/load_test.py --duration 40   # a quick run

gunicorn serves the site on PostgreSQL (production-like: DEBUG off, hashed static
files) on 127.0.0.1:8122. 32 client threads loop over the home page, an article and a
newsletter signup POST (a fresh address each time, and now and then the same address
again in different case). Halfway through, the database "restarts": PostgreSQL is
shared on this machine, so instead of stopping it the site reaches it through a TCP
proxy (tests/security/tcp_proxy.py) that drops every connection and refuses new ones
for --outage seconds, exactly what clients see of a restart.

It reports latency, what was answered during the outage, how fast errors stopped
after the database came back, and whether any subscriber row was lost or doubled:
every signup answered with success must be in the database exactly once. The exit
status is non-zero when a check fails. Never run by `make test`.
"""

import argparse
import collections
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from tests.security.live_site import (  # noqa: E402
    collectstatic,
    gunicorn,
    production_like_environment,
)
from tests.security.tcp_proxy import TcpProxy  # noqa: E402

HANG_SECONDS = 10


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120, help="seconds of load")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--outage", type=float, default=10, help="seconds the database is away")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--port", type=int, default=8122)
    parser.add_argument("--proxy-port", type=int, default=8124)
    parser.add_argument(
        "--database", default="postgres://postgres@127.0.0.1:5432/helper_hardening_load"
    )
    return parser.parse_args()


def recreate_database(url):
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def manage(environ, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=environ, check=True)


def article_paths(url):
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT publish_at, slug FROM articles_article WHERE status = 'published' "
            "AND publish_at <= now() ORDER BY publish_at DESC LIMIT 20"
        ).fetchall()
    return [f"/{moment:%Y/%m/%d}/{slug}/" for moment, slug in rows]


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.results = []  # (started, seconds, kind, status)
        self.accepted = set()  # addresses a signup was answered with success for
        self.uncertain = set()  # addresses whose signup failed or timed out

    def add(self, started, seconds, kind, status):
        with self.lock:
            self.results.append((started, seconds, kind, status))


def request(base, path, *, data=None):
    started = time.monotonic()
    try:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(base + path, data=body)
        with urllib.request.urlopen(req, timeout=HANG_SECONDS + 5) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        status = f"error: {type(error).__name__}"
    return started, time.monotonic() - started, status


def client(number, base, articles, stop, recorder):
    rng = random.Random(number)
    sent = 0
    while not stop.is_set():
        roll = rng.random()
        if roll < 0.4:
            kind, path, data = "listing", "/", None
        elif roll < 0.8:
            kind, path, data = "article", rng.choice(articles), None
        else:
            sent += 1
            email = f"load-{number}-{sent}@example.com"
            if sent > 1 and rng.random() < 0.2:
                # The same reader again, in different case: must not make a second row.
                email = f"LOAD-{number}-{sent - 1}@Example.com"
            kind, path, data = "signup", "/newsletter/", {"email": email}
        started, seconds, status = request(base, path, data=data)
        recorder.add(started, seconds, kind, status)
        if kind == "signup":
            with recorder.lock:
                (recorder.accepted if status == 200 else recorder.uncertain).add(email.lower())


def summarise(recorder, *, began, cut_at, back_at, database_url):
    results = sorted(recorder.results)
    durations = [seconds for _, seconds, _, _ in results]
    by_status = collections.Counter(str(status) for *_, status in results)
    hung = [r for r in results if r[1] > HANG_SECONDS]

    def failed(status):
        return status != 200

    during = collections.Counter(
        str(status) for started, _, _, status in results if cut_at <= started < back_at
    )
    # When did failures stop? The last request started after the database's return
    # that still failed, measured from the return.
    late_failures = [
        started for started, _, _, status in results if started >= back_at and failed(status)
    ]
    errors_stopped_after = (max(late_failures) - back_at) if late_failures else 0.0
    outage_500s = sum(1 for *_, status in results if status == 500)

    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT lower(email) FROM newsletter_subscriber").fetchall()
    stored = collections.Counter(email for (email,) in rows)
    doubled = sorted(email for email, count in stored.items() if count > 1)
    lost = sorted(recorder.accepted - set(stored))
    # A failed signup may or may not have been stored (the answer, not the write,
    # may have been lost), but never twice.
    stored_uncertain = len((recorder.uncertain - recorder.accepted) & set(stored))

    quantiles = statistics.quantiles(durations, n=100)
    total_seconds = results[-1][0] + results[-1][1] - began
    print(
        f"requests: {len(results)} in {total_seconds:.0f}s ({len(results) / total_seconds:.0f}/s)"
    )
    print(
        f"latency: median {statistics.median(durations) * 1000:.0f} ms, "
        f"p95 {quantiles[94] * 1000:.0f} ms, p99 {quantiles[98] * 1000:.0f} ms, "
        f"max {max(durations):.2f} s; over {HANG_SECONDS} s: {len(hung)}"
    )
    print("answers:", dict(by_status))
    print(
        f"database away {back_at - cut_at:.1f}s from t={cut_at - began:.1f}s; "
        f"answers while away: {dict(during)}"
    )
    print(f"errors stopped {errors_stopped_after:.2f}s after the database returned")
    print(f"500 answers (tracebacks): {outage_500s}")
    print(
        f"signups answered OK: {len(recorder.accepted)}, subscriber rows: {len(rows)}, "
        f"lost: {len(lost)}, doubled: {len(doubled)}, "
        f"failed signups that were stored anyway: {stored_uncertain}"
    )
    checks = {
        f"no request over {HANG_SECONDS}s": not hung,
        "no 500 answers": outage_500s == 0,
        "errors stop within 5s of the database's return": errors_stopped_after <= 5,
        "no subscriber lost": not lost,
        "no subscriber doubled": not doubled,
    }
    for name, ok in checks.items():
        print(("PASS " if ok else "FAIL ") + name)
    return all(checks.values())


def main():
    args = parse_args()
    recreate_database(args.database)
    with tempfile.TemporaryDirectory(prefix="newsroom-load-") as tmp:
        tmp = Path(tmp)
        direct = production_like_environment(
            port=args.port,
            database_url=args.database,
            static_root=tmp / "static",
            media_root=tmp / "media",
        )
        manage(direct, "migrate", "--noinput", "-v", "0")
        manage(direct, "seed_demo")
        collectstatic(direct)
        articles = article_paths(args.database)
        if not articles:
            sys.exit("seed_demo made no published article")

        upstream = urllib.parse.urlsplit(args.database)
        with TcpProxy(upstream.hostname, upstream.port or 5432, port=args.proxy_port) as proxy:
            via_proxy = urllib.parse.urlunsplit(
                upstream._replace(netloc=f"{upstream.username}@127.0.0.1:{proxy.port}")
            )
            environ = production_like_environment(
                port=args.port,
                database_url=via_proxy,
                static_root=tmp / "static",
                media_root=tmp / "media",
                # One test address signs up many times: lift the signup limits.
                RATELIMIT_SIGNUP_IP="1000000/h",
                RATELIMIT_SIGNUP_ADDRESS="1000000/h",
            )
            log_path = BASE_DIR / "var" / "load_test_gunicorn.log"
            log_path.parent.mkdir(exist_ok=True)
            with gunicorn(
                environ,
                port=args.port,
                workers=args.workers,
                threads=args.threads,
                log_path=log_path,
            ) as base:
                recorder = Recorder()
                stop = threading.Event()
                began = time.monotonic()
                threads = [
                    threading.Thread(
                        target=client, args=(n, base, articles, stop, recorder), daemon=True
                    )
                    for n in range(args.clients)
                ]
                for thread in threads:
                    thread.start()
                time.sleep(max(0, args.duration / 2 - args.outage / 2))
                cut_at = time.monotonic()
                proxy.cut()
                print(f"t={cut_at - began:.1f}s: database connections cut", flush=True)
                time.sleep(args.outage)
                proxy.restore()
                back_at = time.monotonic()
                print(f"t={back_at - began:.1f}s: database back", flush=True)
                time.sleep(max(0, began + args.duration - time.monotonic()))
                stop.set()
                for thread in threads:
                    thread.join(timeout=HANG_SECONDS + 10)
        ok = summarise(
            recorder, began=began, cut_at=cut_at, back_at=back_at, database_url=args.database
        )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    os.chdir(BASE_DIR)
    main()
