"""Page benchmark: the public pages under gunicorn, driven by wrk, against a reference.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_bench \\
        .venv/bin/python bench/pages.py [--rounds 3] [--duration 5] [--port 8110]

Needs a database filled by `manage.py seed_bulk` (with DJANGO_SETTINGS_MODULE=bench.settings) and the Debian package `wrk`. It:

1. looks up one public page of each kind (home, page 2,000, an article, a section, an
   author, a tag, a search, the RSS feed) and, in this process through Django's test
   client, counts the SQL queries of a cold request (every cache off: Django's dummy
   cache) and of a cache hit, and the bytes raw and gzipped;
2. saves the article page's HTML as the body of the reference view (bench/views.py), so
   the reference costs what gunicorn and the middleware cost for the same bytes;
3. starts two gunicorns (2 sync workers each, DEBUG off, the bench settings = the
   production settings plus the reference URL): one as production runs it, one with
   every cache off (BENCH_CACHE=dummy, read by bench/settings.py);
4. runs wrk from a second process against each page in three modes, in interleaved
   rounds: **hit** (the page cache on and warmed), **cold** (the cache-off server: what a
   page costs after a purge, for staff, for the archive's long tail) and
   **warm-after-edit** (the cached server while this process saves a draft once a
   second through the services code path, as the admin does, so the save signals
   fire: an edit readers cannot see must not cost them anything), plus the reference;
   the figures are medians across rounds, the ratios compare with the reference's
   median of the same run. Before the rounds it also times the first request of each
   page right after a draft save (5 times) and records the page cache's header: `hit`
   there means the unrelated edit purged nothing;
5. prints the table with the issue's targets, and writes it as JSON with --json.
"""

import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import environment, serving  # noqa: E402 (after the path set-up above)

WRK_SCRIPT = BASE_DIR / "bench" / "wrk_report.lua"
CACHE_OFF = {"BENCH_CACHE": "dummy"}
MODES = ("hit", "cold", "warm-after-edit")
EDITS_PROBED = 5

# Ratio of the reference's requests per second each page must reach (issue 15, "Targets"):
# a hit, and a page after an unrelated edit (which should be a hit), at least 0.90; a
# cold page at least its cold-render target.
HIT_TARGET = 0.90
COLD_TARGETS = {
    "article": 0.10,
    "home": 0.07,
    "page 2000": 0.07,
    "section": 0.07,
    "author": 0.07,
    "tag": 0.07,
    "feed": 0.07,
    "search": 0.05,
}
ARTICLE_MAX_BYTES = 60 * 1024
ARTICLE_MAX_GZIP_BYTES = 15 * 1024
CSS_MAX_BYTES = 20 * 1024
DEEP_PAGE_MAX_RATIO = 1.5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8110, help="the cached server")
    parser.add_argument("--cold-port", type=int, default=8114, help="the cache-off server")
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


def purge_everything():
    """Forget every kept page, as after a change to everything (every page carries `all`)."""
    from newsroom import pagecache

    pagecache.purge(["all"])


def probe_in_process(pages):
    """Queries per request (cold and hit), status and bytes, through the test client."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    reader = Client(HTTP_HOST="127.0.0.1")
    probes = {}
    for name, url in pages.items():
        purge_everything()
        with (
            override_settings(
                CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}},
                PAGE_CACHE_LOCAL_BYTES=0,
            ),
            CaptureQueriesContext(connection) as queries,
        ):
            cold = reader.get(url)
        cold_queries = len(queries)
        # A page whose render begins within the clock-skew allowance of a purge is not
        # kept as fresh: let the purge age first.
        time.sleep(2 * settings.PAGE_CACHE_CLOCK_SKEW_SECONDS)
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
            "status": cold.status_code,
            "cold_queries": cold_queries,
            "hit_queries": hit_queries,
            "cache_header": hit.get("X-Page-Cache", ""),
            "bytes": len(hit.content),
            "gzip_bytes": gzip_bytes,
            "html": cold.content,
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


class DraftSaver(threading.Thread):
    """Saves the editor's draft once a second until stopped (the warm-after-edit mode)."""

    def __init__(self, editor, interval=1.0):
        super().__init__(daemon=True)
        self.editor = editor
        self.interval = interval
        self.stopping = threading.Event()
        self.saves = 0

    def run(self):
        from django.db import connection

        try:
            while not self.stopping.wait(self.interval):
                self.editor.save_draft()
                self.saves += 1
        finally:
            connection.close()

    def stop(self):
        self.stopping.set()
        self.join()


def probe_after_edit(editor, base, pages):
    """The first request of each page right after a draft save: (ms, page-cache header)."""
    from django.db import connection

    after = {}
    for name, url in pages.items():
        serving.fetch(base + url)  # cached, whatever came before
        after[name] = []
        for _ in range(EDITS_PROBED):
            editor.save_draft()
            started = time.monotonic()
            _status, header, _ = serving.fetch(base + url)
            after[name].append((round((time.monotonic() - started) * 1000, 2), header or "-"))
            time.sleep(0.2)
    connection.close()
    return after


def wrk(args, url):
    return serving.run_wrk(
        url,
        script=WRK_SCRIPT,
        threads=args.threads,
        connections=args.connections,
        duration=args.duration,
    )


def median_of(runs, key):
    return statistics.median(run[key] for run in runs)


def main():
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    environment.configure(port=args.port)
    from django.conf import settings

    from bench.editor import Editor

    if not args.skip_collectstatic:
        environment.collectstatic()
    pages, public_count = choose_pages(args)
    print(
        f"{public_count} public articles; database {settings.DATABASES['default']['NAME']}; "
        f"{args.workers} gunicorn sync workers per server; wrk -t{args.threads} "
        f"-c{args.connections} -d{args.duration}s x {args.rounds} rounds; "
        f"load {serving.load_average():.2f}",
        flush=True,
    )
    probes = probe_in_process(pages)
    editor = Editor()
    workdir = Path(tempfile.mkdtemp(prefix="newsroom-bench-"))
    reference_file = workdir / "reference.html"
    reference_file.write_bytes(probes["article"]["html"] if "article" in probes else b"")
    os.environ["BENCH_REFERENCE_FILE"] = str(reference_file) if "article" in probes else ""

    base = f"http://127.0.0.1:{args.port}"
    cold_base = f"http://127.0.0.1:{args.cold_port}"
    cached = serving.start_gunicorn(
        port=args.port, workers=args.workers, log_path=workdir / "gunicorn.log"
    )
    cold = serving.start_gunicorn(
        port=args.cold_port,
        workers=args.workers,
        log_path=workdir / "gunicorn-cold.log",
        env=CACHE_OFF,
    )
    loads = []
    try:
        css_bytes, blocking = (
            check_assets(probes["article"]["html"], base) if ("article" in probes) else (None, [])
        )
        configs = [("reference", "-", f"{base}/bench/reference/")]
        configs.append(("reference", "cache off", f"{cold_base}/bench/reference/"))
        for name, url in pages.items():
            configs.append((name, "hit", base + url))
            configs.append((name, "cold", cold_base + url))
            configs.append((name, "warm-after-edit", base + url))
        for _name, mode, url in configs:
            for _ in range(3):  # warm both workers (and, on the cached server, the page)
                _status, header, _ = serving.fetch(url)
            if mode == "hit" and header != "hit":
                print(f"  note: {url} is not served from the page cache ({header or 'no header'})")
            if mode == "cold" and header == "hit":
                print(f"  note: {url} is a page-cache hit on the cache-off server")
        after_edit = probe_after_edit(editor, base, pages)
        runs = {(name, mode): [] for name, mode, _ in configs}
        for round_number in range(1, args.rounds + 1):
            print(f"round {round_number}/{args.rounds}", flush=True)
            for name, mode, url in configs:
                serving.fetch(url)  # the page is cached again after the last round's edits
                saver = DraftSaver(editor) if mode == "warm-after-edit" else None
                if saver:
                    saver.start()
                loads.append(serving.load_average())
                try:
                    runs[name, mode].append(wrk(args, url))
                finally:
                    if saver:
                        saver.stop()
                serving.drain(base)
                serving.drain(cold_base)
    finally:
        serving.stop(cached)
        serving.stop(cold)

    results = summarise(runs, probes, after_edit)
    load = {"min": min(loads), "median": statistics.median(loads), "max": max(loads)}
    report(results, probes, css_bytes, blocking, load)
    if args.json:
        args.json.write_text(json.dumps({"load": load, "pages": results}, indent=2))
    shutil.rmtree(workdir, ignore_errors=True)


def summarise(runs, probes, after_edit):
    reference_rps = median_of(runs["reference", "-"], "rps")
    results = []
    for (name, mode), page_runs in runs.items():
        probe = probes.get(name, {})
        rps = median_of(page_runs, "rps")
        errors = sum(run["status_errors"] + run["socket_errors"] for run in page_runs)
        if mode in ("hit", "warm-after-edit"):
            target = HIT_TARGET
        elif mode == "cold":
            target = COLD_TARGETS.get(name, 0.07)
        else:
            target = None
        firsts = after_edit.get(name, []) if mode == "warm-after-edit" else []
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
                "queries": probe.get("cold_queries" if mode == "cold" else "hit_queries", 0),
                "bytes": probe.get("bytes", probes.get("article", {}).get("bytes", 0)),
                "gzip_bytes": probe.get(
                    "gzip_bytes", probes.get("article", {}).get("gzip_bytes", 0)
                ),
                "errors": errors,
                "cache_header": probe.get("cache_header", "") if mode == "hit" else "",
                "first_after_edit_ms": (
                    statistics.median(ms for ms, _ in firsts) if firsts else None
                ),
                "first_after_edit_max_ms": max((ms for ms, _ in firsts), default=None),
                "first_after_edit_headers": [header for _, header in firsts],
            }
        )
    return results


def after_edit_column(row):
    """ "3.1/4 hit x5": the first request after a draft save: median/max ms, its headers."""
    if row["first_after_edit_ms"] is None:
        return ""
    headers = row["first_after_edit_headers"]
    seen = ", ".join(f"{h} x{headers.count(h)}" for h in sorted(set(headers)))
    return f"{row['first_after_edit_ms']:.1f}/{row['first_after_edit_max_ms']:.0f} {seen}"


def report(results, probes, css_bytes, blocking, load):
    print()
    header = (
        f"{'page':<10} {'mode':<15} {'status':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'x ref':>6} {'target':>8} {'SQL':>4} {'raw KB':>7} {'gzip KB':>7}  "
        f"{'1st after edit':<22} url"
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
            f"{row['page']:<10} {row['mode']:<15} {row['status']:>6} {row['rps']:>8.0f} "
            f"{row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['ratio']:>6.3f} {verdict:>8} "
            f"{row['queries']:>4} {row['bytes'] / 1024:>7.1f} {row['gzip_bytes'] / 1024:>7.1f}  "
            f"{after_edit_column(row):<22} {row['url']}"
            f"{'  (' + str(row['errors']) + ' errors)' if row['errors'] else ''}"
        )
    print()
    print(
        f"load average during the runs: median {load['median']:.2f} "
        f"(min {load['min']:.2f}, max {load['max']:.2f})"
    )
    by_key = {(row["page"], row["mode"]): row for row in results}
    deep = next((key for key in by_key if key[0].startswith("page ") and key[1] == "cold"), None)
    if deep and ("home", "cold") in by_key:
        ratio = by_key[deep]["p50_ms"] / by_key["home", "cold"]["p50_ms"]
        met = ratio <= DEEP_PAGE_MAX_RATIO
        print(
            f"{deep[0]} p50 / page 1 p50 (cold): {ratio:.2f} (target <= 1.5) {'ok' if met else 'MISS'}"
        )
        if not met:
            failures.append("deep page latency")
    edited = [row for row in results if row["mode"] == "warm-after-edit"]
    purged = [row["page"] for row in edited if set(row["first_after_edit_headers"]) - {"hit"}]
    print(
        "first request after an unrelated draft save: "
        + (f"not a hit on {', '.join(purged)}" if purged else "a hit on every page")
    )
    if purged:
        failures.append("an unrelated edit purged pages")
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
