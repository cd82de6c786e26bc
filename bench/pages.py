"""Page benchmark: the public pages under gunicorn, driven by wrk, against a reference.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_bench \\
        .venv/bin/python bench/pages.py [--rounds 3] [--duration 5] [--port 8110]

Needs a database filled by `manage.py seed_bulk` (with DJANGO_SETTINGS_MODULE=bench.settings) and the Debian package `wrk`. It:

1. looks up one public page of each kind (home, page 2,000, an article, a section, an
   author, a tag, a search, the RSS feed) and, in this process through Django's test
   client, counts the SQL queries of a cache miss (a request carrying a session cookie,
   which bypasses the page cache) and of a cache hit, and the bytes raw and gzipped;
2. saves the article page's HTML as the body of the reference view (bench/views.py), so
   the reference costs what gunicorn and the middleware cost for the same bytes;
3. starts gunicorn (2 sync workers, DEBUG off, the bench settings = the production
   settings plus the reference URL) and runs wrk from a second process against each
   page, hit and miss, and the reference, in several rounds; the figures are medians
   across rounds, the ratios compare with the reference's median of the same run;
4. prints the table with the issue's targets, and writes it as JSON with --json.
"""

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import environment  # noqa: E402 (after the path set-up above)

WRK_SCRIPT = BASE_DIR / "bench" / "wrk_report.lua"
MISS_COOKIE = "benchmark-cache-bypass"

# Ratio of the reference's requests per second each page must reach (issue 8).
HIT_TARGET = 0.90
MISS_TARGETS = {
    "article": 0.20,
    "home": 0.15,
    "page 2000": 0.15,
    "section": 0.15,
    "author": 0.15,
    "tag": 0.15,
    "feed": 0.15,
    "search": 0.10,
}
ARTICLE_MAX_BYTES = 60 * 1024
ARTICLE_MAX_GZIP_BYTES = 15 * 1024
CSS_MAX_BYTES = 20 * 1024
DEEP_PAGE_MAX_RATIO = 1.5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8110)
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per page (median)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--search", default="ceasefire sanctions", help="the search query")
    parser.add_argument("--page", type=int, default=2000, help="the deep listing page")
    parser.add_argument("--only", help="comma-separated page names to run (and the reference)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--skip-collectstatic", action="store_true")
    return parser.parse_args()


def choose_pages(args):
    """One URL of each kind, chosen from the data so any seeded database works."""
    from django.db.models import Count, Q
    from django.urls import reverse
    from taggit.models import Tag

    from articles.models import Article, Author, Section

    public = Article.objects.published()
    count = public.count()
    if not count:
        sys.exit("No public articles: run `manage.py seed_bulk` first (see BENCHMARKS.md).")
    article = public.order_by("-publish_at", "-pk")[min(99, count - 1)]
    section = Section.objects.annotate(n=Count("articles")).order_by("-n", "pk").first()
    author = (
        Author.objects.annotate(n=Count("bylines", filter=Q(bylines__article__in=public)))
        .order_by("-n", "pk")
        .first()
    )
    tag = Tag.objects.annotate(n=Count("taggit_taggeditem_items")).order_by("-n", "pk").first()
    pages = {
        "home": reverse("articles:latest"),
        "page 2000": f"{reverse('articles:latest')}?page={args.page}",
        "article": article.get_absolute_url(),
        "section": section.get_absolute_url(),
        "author": author.get_absolute_url(),
        "tag": reverse("articles:tag-detail", kwargs={"slug": tag.slug}),
        "search": f"/search/?{urllib.parse.urlencode({'q': args.search})}",
        "feed": "/feed/",
    }
    if args.page != 2000:
        pages[f"page {args.page}"] = pages.pop("page 2000")
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        pages = {name: url for name, url in pages.items() if name in wanted}
    return pages, count


def probe_in_process(pages):
    """Queries per request (miss and hit), status and bytes, through the test client."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    host = {"HTTP_HOST": "127.0.0.1"}
    miss_client = Client(**host)
    miss_client.cookies[settings.SESSION_COOKIE_NAME] = MISS_COOKIE
    reader = Client(**host)
    probes = {}
    from articles import cache

    for name, url in pages.items():
        # A new generation: nothing kept, as after a content change. The log is read at
        # once: the next request's start clears it.
        cache.invalidate()
        with CaptureQueriesContext(connection) as queries:
            miss = miss_client.get(url)
        cold_queries = len(queries)
        # Again past the page cache, now with the parts pages keep (teaser cards, the
        # article's parts): what a reader with a session costs.
        with CaptureQueriesContext(connection) as queries:
            miss_client.get(url)
        miss_queries = len(queries)
        reader.get(url)  # fills the page cache
        with CaptureQueriesContext(connection) as queries:
            hit = reader.get(url)
        hit_queries = len(queries)
        zipped = reader.get(url, HTTP_ACCEPT_ENCODING="gzip")
        gzip_bytes = (
            len(zipped.content)
            if zipped.get("Content-Encoding") == "gzip"
            else len(gzip.compress(hit.content))
        )
        probes[name] = {
            "url": url,
            "status": miss.status_code,
            "miss_queries": miss_queries,
            "cold_queries": cold_queries,
            "hit_queries": hit_queries,
            "cache_header": hit.get("X-Page-Cache", ""),
            "bytes": len(hit.content),
            "gzip_bytes": gzip_bytes,
            "html": miss.content,
        }
    connection.close()
    return probes


def check_assets(html, base_url):
    """CSS bytes and render-blocking scripts of a page (the article's targets)."""
    head = html.split(b"</head>", 1)[0].decode("utf-8", "replace")
    css = 0
    for tag in re.findall(r"<link\b[^>]*>", head):
        if re.search(r"rel=[\"']?stylesheet", tag):
            href = re.search(r"href=[\"']?([^\"' >]+)", tag).group(1)
            with urllib.request.urlopen(base_url + href, timeout=10) as response:
                css += len(response.read())
    blocking = [
        tag
        for tag in re.findall(r"<script\b[^>]*>", head)
        if "src=" in tag and not re.search(r"\b(defer|async)\b|type=[\"']?module", tag)
    ]
    return css, blocking


def start_gunicorn(args, log_path):
    gunicorn = BASE_DIR / ".venv" / "bin" / "gunicorn"
    command = [
        str(gunicorn if gunicorn.exists() else shutil.which("gunicorn")),
        "newsroom.wsgi:application",
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
    ]
    log = open(log_path, "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        command, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited at start-up; see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=10):
                return process
        except OSError:  # refused, reset or timed out while the workers boot
            time.sleep(0.3)
    stop(process)
    sys.exit(f"gunicorn did not answer within 60 s; see {log_path}")


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def fetch(url, cookie=None):
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status, response.headers.get("X-Page-Cache", "")
    except urllib.error.HTTPError as error:
        return error.code, ""


def drain(base):
    """Wait until requests wrk left queued in gunicorn's backlog have been answered."""
    with urllib.request.urlopen(f"{base}/healthz", timeout=120) as response:
        response.read()


def run_wrk(args, url, cookie=None):
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "30s",
        "-s",
        str(WRK_SCRIPT),
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True
    ).stdout.strip()
    result = json.loads(output.splitlines()[-1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def median_of(runs, key):
    return statistics.median(run[key] for run in runs)


def main():
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    environment.configure(port=args.port)
    from django.conf import settings

    if not args.skip_collectstatic:
        environment.collectstatic()
    pages, public_count = choose_pages(args)
    print(
        f"{public_count} public articles; database {settings.DATABASES['default']['NAME']}; "
        f"{args.workers} gunicorn sync workers; wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s x {args.rounds} rounds",
        flush=True,
    )
    probes = probe_in_process(pages)
    workdir = Path(tempfile.mkdtemp(prefix="newsroom-bench-"))
    reference_file = workdir / "reference.html"
    reference_file.write_bytes(probes["article"]["html"] if "article" in probes else b"")
    os.environ["BENCH_REFERENCE_FILE"] = str(reference_file) if "article" in probes else ""

    base = f"http://127.0.0.1:{args.port}"
    cookie = f"{settings.SESSION_COOKIE_NAME}={MISS_COOKIE}"
    process = start_gunicorn(args, workdir / "gunicorn.log")
    try:
        css_bytes, blocking = (
            check_assets(probes["article"]["html"], base) if ("article" in probes) else (None, [])
        )
        configs = [("reference", "-", f"{base}/bench/reference/", None)]
        for name, url in pages.items():
            configs.append((name, "hit", base + url, None))
            configs.append((name, "miss", base + url, cookie))
        for _, mode, url, with_cookie in configs:
            for _ in range(3):  # warm both workers and the page cache
                _status, header = fetch(url, with_cookie)
            if mode == "hit" and header != "hit":
                print(f"  note: {url} is not served from the page cache ({header or 'no header'})")
        runs = {(name, mode): [] for name, mode, _, _ in configs}
        for round_number in range(1, args.rounds + 1):
            print(f"round {round_number}/{args.rounds}", flush=True)
            for name, mode, url, with_cookie in configs:
                runs[name, mode].append(run_wrk(args, url, with_cookie))
                drain(base)
    finally:
        stop(process)

    results = summarise(runs, probes)
    report(results, probes, css_bytes, blocking)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    shutil.rmtree(workdir, ignore_errors=True)


def summarise(runs, probes):
    reference_rps = median_of(runs["reference", "-"], "rps")
    results = []
    for (name, mode), page_runs in runs.items():
        probe = probes.get(name, {})
        rps = median_of(page_runs, "rps")
        errors = sum(run["status_errors"] + run["socket_errors"] for run in page_runs)
        if mode == "hit":
            target = HIT_TARGET
        elif mode == "miss":
            target = MISS_TARGETS.get(name, 0.15)
        else:
            target = None
        results.append(
            {
                "page": name,
                "mode": mode,
                "url": probe.get("url", "/bench/reference/"),
                "status": probe.get("status", 200),
                "rps": round(rps, 1),
                "p50_ms": round(median_of(page_runs, "p50_us") / 1000, 2),
                "p99_ms": round(median_of(page_runs, "p99_us") / 1000, 2),
                "ratio": round(rps / reference_rps, 3),
                "target": target,
                "queries": probe.get(f"{mode}_queries", 0),
                "cold_queries": probe.get("cold_queries", 0) if mode == "miss" else None,
                "bytes": probe.get("bytes", probes.get("article", {}).get("bytes", 0)),
                "gzip_bytes": probe.get(
                    "gzip_bytes", probes.get("article", {}).get("gzip_bytes", 0)
                ),
                "errors": errors,
                "cache_header": probe.get("cache_header", "") if mode == "hit" else "",
            }
        )
    return results


def sql_column(row):
    """Queries per request; for a miss, "kept/cold": with the kept parts, and with none."""
    if row["cold_queries"] is None:
        return str(row["queries"])
    return f"{row['queries']}/{row['cold_queries']}"


def report(results, probes, css_bytes, blocking):
    print()
    header = (
        f"{'page':<10} {'mode':<4} {'status':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'x ref':>6} {'target':>7} {'SQL':>5} {'raw KB':>7} {'gzip KB':>7}  url"
    )
    print(header)
    print("-" * len(header))
    failures = []
    for row in results:
        target = row["target"]
        verdict = ""
        if target is not None:
            met = row["ratio"] >= target and row["status"] == 200 and not row["errors"]
            verdict = f"{'ok' if met else 'MISS'} {target:.2f}"
            if not met:
                failures.append(f"{row['page']} {row['mode']}")
        print(
            f"{row['page']:<10} {row['mode']:<4} {row['status']:>6} {row['rps']:>8.0f} "
            f"{row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['ratio']:>6.2f} {verdict:>7} "
            f"{sql_column(row):>5} {row['bytes'] / 1024:>7.1f} {row['gzip_bytes'] / 1024:>7.1f}"
            f"  {row['url']}{'  (' + str(row['errors']) + ' errors)' if row['errors'] else ''}"
        )
    print()
    by_key = {(row["page"], row["mode"]): row for row in results}
    deep = next((key for key in by_key if key[0].startswith("page ") and key[1] == "miss"), None)
    if deep and ("home", "miss") in by_key:
        ratio = by_key[deep]["p50_ms"] / by_key["home", "miss"]["p50_ms"]
        met = ratio <= DEEP_PAGE_MAX_RATIO
        print(
            f"{deep[0]} p50 / page 1 p50 (miss): {ratio:.2f} (target <= 1.5) {'ok' if met else 'MISS'}"
        )
        if not met:
            failures.append("deep page latency")
    if "article" in probes:
        article = probes["article"]
        for label, value, limit in (
            ("article HTML", article["bytes"], ARTICLE_MAX_BYTES),
            ("article gzip", article["gzip_bytes"], ARTICLE_MAX_GZIP_BYTES),
            ("CSS", css_bytes, CSS_MAX_BYTES),
        ):
            met = value <= limit
            print(
                f"{label}: {value / 1024:.1f} KB (target <= {limit // 1024} KB) {'ok' if met else 'MISS'}"
            )
            if not met:
                failures.append(label)
        print(f"render-blocking scripts: {len(blocking)} {blocking or 'ok'}")
        if blocking:
            failures.append("render-blocking script")
    print()
    print("targets missed: " + (", ".join(failures) if failures else "none"))


if __name__ == "__main__":
    main()
