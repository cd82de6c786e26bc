"""A newsroom's busy day: Zipf-spread readers while an editor works, against the same readers alone.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench100k MEDIA_ROOT=$PWD/var/bench-media \\
        .venv/bin/python bench/newsroom_day.py [--duration 60] [--rounds 1] [--varnish URL]

Needs a database filled by `manage.py seed_bulk` and the Debian package `wrk`. It:

1. picks the readers' pages: the home page, every section, a sample of authors (--authors)
   and tags (--tags) with public articles, and --articles public articles (the 100 newest,
   the rest drawn at random from the archive); ranks them (home, the sections, then the
   rest shuffled) and gives rank r the weight 1/r**s (Zipf, --zipf-s);
2. starts gunicorn (2 sync workers, bench.settings) and, before each run, purges every
   page (the key `all`) and asks for each once, so both runs start with every copy fresh
   for CACHE_PAGE_SECONDS (300 s), longer than a run: no run absorbs the expiry of the
   copies an earlier one kept;
3. runs the readers with wrk (16 connections, `bench/wrk_day.lua` picks each request's
   path by weight and counts responses by status, by the page cache's diagnostic header
   and by Varnish's `X-Varnish`) for --duration seconds twice per round: alone (the
   no-edit run), then while an editor in this process, through the admin's code paths
   against the same database (bench/editor.py, so signals fire), saves a draft every
   second, edits a published article (one of the 20 newest, in turn) every 5 s,
   publishes a new article every 60 s (first at 20 s), adds a correction every 5 min
   (first at 30 s) and uploads an image every 2 min (first at 40 s; its renditions are
   made as the worker would, each committed on its own);
4. for each correction, polls every page that shows the corrected article (the article,
   the home page if it lists it, its section page, the feed, the corrections page) until
   each serves the correction, and reports the time from the commit;
5. prints throughput, p50/p99, hit share and the ratios to the no-edit run against the
   issue's targets; --json keeps the figures.

wrk rather than a Python load generator: on this 2-core machine a Python client spends
more CPU per request than a page-cache hit costs gunicorn, so it would measure itself.
With --varnish the readers and the polls go through Varnish: a private varnishd this
script starts on --varnish-port with deploy/varnish/newsroom.vcl (--vcl), its backend
pointed at the gunicorn on --port; or, with --varnish-url URL, one started separately
with that gunicorn as its backend. The editor's purges reach it through CACHE_PURGE_URLS,
which defaults to its URL. Varnish's hits are counted by the VCL's X-Cache (HIT, and
STALE: a soft-purged copy served while the new one is fetched).
"""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import environment, serving, varnish, zipf  # noqa: E402 (after the path set-up above)

WRK_SCRIPT = BASE_DIR / "bench" / "wrk_day.lua"

# The targets (issue 15, "Targets").
THROUGHPUT_RATIO_TARGET = 0.90
P99_RATIO_TARGET = 3.0
HIT_SHARE_TARGET = 0.99
VISIBLE_TARGET_SECONDS = 1.0
VISIBLE_TARGET_VARNISH_SECONDS = 2.0

# The editor's day: (action, first at, then every) in seconds.
SCHEDULE = [
    ("save draft", 1, 1),
    ("edit published", 5, 5),
    ("publish new", 20, 60),
    ("correction", 30, 300),
    ("upload image", 40, 120),
]
POLL_INTERVAL = 0.05
POLL_GIVE_UP = 60.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8115, help="gunicorn's port")
    parser.add_argument(
        "--varnish", action="store_true", help="start varnishd and send the readers through it"
    )
    parser.add_argument("--varnish-port", type=int, default=8116)
    parser.add_argument("--vcl", type=Path, default=varnish.DEFAULT_VCL)
    parser.add_argument("--varnish-url", help="readers go through this running Varnish instead")
    parser.add_argument("--duration", type=int, default=60, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=1, help="no-edit + edit runs (median)")
    parser.add_argument("--connections", type=int, default=16, help="readers (wrk connections)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--authors", type=int, default=50)
    parser.add_argument("--tags", type=int, default=100)
    parser.add_argument("--zipf-s", type=float, default=1.0, help="Zipf exponent")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--header", default="X-Page-Cache", help="the page cache's diagnostic response header"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--skip-collectstatic", action="store_true")
    return parser.parse_args()


def choose_paths(args):
    """The readers' pages, ranked; and facts about the data for the report."""
    from django.db.models import Exists, OuterRef
    from django.urls import reverse
    from taggit.models import Tag, TaggedItem

    from articles.models import Article, Author, Byline, Section

    rng = random.Random(args.seed)
    public = Article.objects.published()
    newest = list(public.order_by("-publish_at", "-pk").values_list("pk", flat=True)[:100])
    every = list(public.values_list("pk", flat=True))
    if not every:
        sys.exit("No public articles: run `manage.py seed_bulk` first (see BENCHMARKS.md).")
    rest = sorted(set(every) - set(newest))
    picked = newest + rng.sample(rest, min(len(rest), max(0, args.articles - len(newest))))
    articles = [
        a.get_absolute_url() for a in public.filter(pk__in=picked).only("slug", "publish_at")
    ]
    sections = [s.get_absolute_url() for s in Section.objects.order_by("pk")]
    writing = Byline.objects.filter(author=OuterRef("pk"), article__in=public)
    author_pool = list(Author.objects.filter(Exists(writing)).order_by("pk"))
    authors = [
        a.get_absolute_url() for a in rng.sample(author_pool, min(args.authors, len(author_pool)))
    ]
    tagged = TaggedItem.objects.filter(tag=OuterRef("pk"))
    tag_pool = list(
        Tag.objects.filter(Exists(tagged)).order_by("pk").values_list("slug", flat=True)
    )
    tags = [
        reverse("articles:tag-detail", kwargs={"slug": slug})
        for slug in rng.sample(tag_pool, min(args.tags, len(tag_pool)))
    ]
    ranked = zipf.rank_paths(
        home=reverse("articles:latest"),
        sections=sections,
        others=[*authors, *tags, *articles],
        seed=args.seed,
    )
    mix = {
        "sections": len(sections),
        "authors": len(authors),
        "tags": len(tags),
        "articles": len(articles),
        "public articles": len(every),
    }
    return ranked, mix


def warm(base, paths, header):
    """Ask for every page once (4 at a time); returns the header values seen and seconds."""
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        seen = list(pool.map(lambda path: serving.fetch(base + path, header=header)[:2], paths))
    statuses = {}
    for status, _ in seen:
        statuses[status] = statuses.get(status, 0) + 1
    return statuses, time.monotonic() - started


def refresh(base, paths, header):
    """Every page rendered anew and kept (the key `all` purged, then each asked for until
    it is fresh): each run starts with copies fresh for CACHE_PAGE_SECONDS, longer than it
    lasts. Warming alone left the copies an earlier run kept, which then expired together,
    1,158 cold renders inside whichever run came five minutes later.

    Through Varnish a purge is soft: the first request for a page gets the old copy
    (X-Cache: STALE) while Varnish fetches the new one in the background. Asking once
    left those 1,158 renders running inside the measured run, with every purge's
    refetches queued behind them (a correction took 5 s to show). So it waits for the
    purge to be sent again (CACHE_PURGE_REPEAT_SECONDS), then asks again for every page
    Varnish did not answer fresh until it does."""
    from django.conf import settings

    from newsroom.pagecache import purge

    purge(["all"])
    time.sleep(settings.CACHE_PURGE_REPEAT_SECONDS + 0.5)
    started = time.monotonic()
    statuses, _ = warm(base, paths, header)
    waiting = list(paths)
    for _ in range(60):
        with ThreadPoolExecutor(4) as pool:
            answers = pool.map(lambda path: serving.fetch(base + path, header="X-Cache"), waiting)
            waiting = [
                p for p, (_, cache, _) in zip(waiting, answers, strict=True) if cache == "STALE"
            ]
        if not waiting:
            break
        time.sleep(0.5)
    return statuses, time.monotonic() - started


class EditorDay(threading.Thread):
    """The editor's schedule, run beside the readers for `duration` seconds."""

    def __init__(self, *, duration, base):
        super().__init__(daemon=True)
        self.duration = duration
        self.base = base
        self.actions = {name: [] for name, _, _ in SCHEDULE}  # name -> [(lateness, seconds)]
        self.errors = []
        self.corrections = []
        self.helpers = []

    def events(self):
        timeline = []
        for name, first, every in SCHEDULE:
            moment = first
            while moment < self.duration:
                timeline.append((moment, name))
                moment += every
        return sorted(timeline)

    def run(self):
        from django.db import connection

        from bench.editor import Editor

        try:
            editor = Editor()
            recent = self.recent_public()
            started = time.monotonic()
            for moment, name in self.events():
                delay = started + moment - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                lateness = max(0.0, -delay)
                try:
                    seconds = self.act(editor, name, recent, lateness)
                except Exception as error:  # reported, and the day goes on
                    self.errors.append(f"{name} at {moment}s: {type(error).__name__}: {error}")
                    continue
                if seconds is not None:  # else timed by its own thread
                    self.actions[name].append((lateness, seconds))
        finally:
            connection.close()

    def act(self, editor, name, recent, lateness):
        """Seconds the action took (the save alone for a correction), or None."""
        started = time.monotonic()
        if name == "save draft":
            editor.save_draft()
        elif name == "edit published":
            editor.edit_published(recent[editor.edits % len(recent)])
        elif name == "publish new":
            editor.publish_new()
        elif name == "correction":
            return self.correct(editor)
        elif name == "upload image":
            # Renditions take seconds of CPU: in their own thread, as in their own worker.
            helper = threading.Thread(target=self.upload, args=(editor, lateness), daemon=True)
            helper.start()
            self.helpers.append(helper)
            return None
        return time.monotonic() - started

    def upload(self, editor, lateness):
        """The upload and its renditions, timed together."""
        from django.db import connection

        try:
            started = time.monotonic()
            editor.upload_image()
            self.actions["upload image"].append((lateness, time.monotonic() - started))
        except Exception as error:
            self.errors.append(f"upload image: {type(error).__name__}: {error}")
        finally:
            connection.close()

    @staticmethod
    def recent_public():
        from articles.models import Article

        return list(
            Article.objects.published()
            .order_by("-publish_at", "-pk")
            .values_list("pk", flat=True)[:20]
        )

    def correct(self, editor):
        """Correct the third-newest public article; poll every page that shows it."""
        from django.urls import reverse

        from articles.models import Article
        from articles.templatetags.articles_tags import iso

        article = (
            Article.objects.published().select_related("section").order_by("-publish_at", "-pk")[2]
        )
        token = f"bench-correction-{uuid.uuid4().hex[:12]}"
        home = reverse("articles:latest")
        path = article.get_absolute_url()
        home_lists = path.encode() in serving.fetch(self.base + home)[2]
        saved = time.monotonic()
        note = editor.add_correction(article, f"An earlier version misstated a figure ({token}).")
        committed = time.monotonic()
        article.refresh_from_db(fields=["updated_at"])
        updated = f'datetime="{iso(article.updated_at)}"'.encode()
        pages = {
            "article": (path, f'id="note-{note.pk}"'.encode()),
            "section": (article.section.get_absolute_url(), updated),
            "feed": (reverse("articles:feed"), token.encode()),
            "corrections": (reverse("articles:corrections"), token.encode()),
        }
        if home_lists:
            pages["home"] = (home, updated)
        record = {"article": path, "save_s": committed - saved, "pages": {}}
        pollers = [
            threading.Thread(target=self.poll, args=(record, name, url, marker, committed))
            for name, (url, marker) in pages.items()
        ]
        for poller in pollers:
            poller.start()
        self.helpers.extend(pollers)
        if not home_lists:
            record["pages"]["home"] = "not listed"
        self.corrections.append(record)
        return record["save_s"]

    def poll(self, record, name, path, marker, committed):
        deadline = committed + POLL_GIVE_UP
        while time.monotonic() < deadline:
            try:
                status, _, body = serving.fetch(self.base + path, timeout=10)
            except OSError:  # timed out or refused: not served yet, ask again
                status, body = None, b""
            if status == 200 and marker in body:
                record["pages"][name] = round(time.monotonic() - committed, 3)
                return
            time.sleep(POLL_INTERVAL)
        record["pages"][name] = None  # not visible within POLL_GIVE_UP

    def finish(self):
        for helper in self.helpers:
            helper.join(timeout=POLL_GIVE_UP + 5)


def run_readers(args, base, table):
    return serving.run_wrk(
        base + "/",
        script=WRK_SCRIPT,
        threads=args.threads,
        connections=args.connections,
        duration=args.duration,
        script_args=(str(table), args.header),
    )


def shares(counts):
    """Hit shares from wrk_day.lua's "status page-header varnish" counts.

    A Varnish STALE (a soft-purged copy served while the new one is fetched) is a hit:
    the reader did not wait for a render. `cached` is what neither Varnish nor the page
    cache had to render: the hit share through Varnish.
    """
    total = sum(counts.values()) or 1
    page_hit = edge_hit = stale = either = ok = 0
    for key, n in counts.items():
        status, page, edge = key.split(" ")
        from_edge = edge in ("hit", "stale")
        ok += n if status.startswith("2") or status == "304" else 0
        page_hit += n if page.lower().startswith("hit") else 0
        edge_hit += n if from_edge else 0
        stale += n if edge == "stale" else 0
        either += n if from_edge or page.lower().startswith("hit") else 0
    return {
        "page_cache_hit": page_hit / total,
        "varnish_hit": edge_hit / total,
        "varnish_stale": stale / total,
        "cached": either / total,
        "non_2xx": (total - ok) / total,
    }


def summarise_run(result):
    return {
        "rps": round(result["rps"], 1),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p90_ms": round(result["p90_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "max_ms": round(result["max_us"] / 1000, 1),
        "requests": result["requests"],
        "errors": result["status_errors"] + result["socket_errors"],
        "counts": result["counts"],
        **{key: round(value, 4) for key, value in shares(result["counts"]).items()},
    }


def main():
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    if args.varnish and not args.varnish_url:
        args.varnish_url = f"http://127.0.0.1:{args.varnish_port}"
    if args.varnish_url:
        args.varnish_url = args.varnish_url.rstrip("/")
        os.environ.setdefault("CACHE_PURGE_URLS", args.varnish_url)
    environment.configure(port=args.port)
    from django.conf import settings

    if not args.skip_collectstatic:
        environment.collectstatic()
    ranked, mix = choose_paths(args)
    workdir = Path(tempfile.mkdtemp(prefix="newsroom-day-"))
    table = workdir / "paths.txt"
    zipf.write_table(table, ranked, s=args.zipf_s)
    gunicorn_base = f"http://127.0.0.1:{args.port}"
    base = args.varnish_url or gunicorn_base
    print(
        f"{mix['public articles']} public articles; database "
        f"{settings.DATABASES['default']['NAME']}; {len(ranked)} pages (home, "
        f"{mix['sections']} sections, {mix['authors']} authors, {mix['tags']} tags, "
        f"{mix['articles']} articles), Zipf s={args.zipf_s}; {args.workers} gunicorn sync "
        f"workers; wrk -t{args.threads} -c{args.connections} -d{args.duration}s; readers via "
        f"{'Varnish ' + base if args.varnish_url else 'gunicorn'}; {args.rounds} round(s)",
        flush=True,
    )
    process = serving.start_gunicorn(
        port=args.port, workers=args.workers, log_path=workdir / "gunicorn.log"
    )
    edge = None
    if args.varnish:
        edge = varnish.start(
            vcl_path=args.vcl, port=args.varnish_port, backend_port=args.port, workdir=workdir
        )
    runs = {"no-edit": [], "edit": []}
    days = []
    try:
        for round_number in range(1, args.rounds + 1):
            for kind in ("no-edit", "edit"):
                statuses, seconds = refresh(base, ranked, args.header)
                print(
                    f"round {round_number}/{args.rounds} {kind}: rendered {len(ranked)} pages "
                    f"in {seconds:.1f} s {statuses}; load {serving.load_average():.2f}",
                    flush=True,
                )
                day = None
                if kind == "edit":
                    day = EditorDay(duration=args.duration, base=base)
                    day.start()
                load_before = serving.load_average()
                result = summarise_run(run_readers(args, base, table))
                result["load"] = [round(load_before, 2), round(serving.load_average(), 2)]
                if day is not None:
                    day.join(timeout=args.duration + 30)
                    day.finish()
                    result["editor"] = editor_summary(day)
                    days.append(day)
                runs[kind].append(result)
                serving.drain(gunicorn_base)
                print(f"  {kind}: {brief(result)}", flush=True)
    finally:
        if edge is not None:
            serving.stop(edge)
        serving.stop(process)
    results = summarise(args, runs, mix, len(ranked))
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    shutil.rmtree(workdir, ignore_errors=True)


def editor_summary(day):
    actions = {}
    for name, done in day.actions.items():
        seconds = [s for _, s in done]
        actions[name] = {
            "count": len(done),
            "median_ms": round(statistics.median(seconds) * 1000, 1) if seconds else None,
            "max_late_s": round(max((late for late, _ in done), default=0.0), 2),
        }
    return {"actions": actions, "errors": day.errors, "corrections": day.corrections}


def brief(run):
    return (
        f"{run['rps']:.0f} req/s, p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms, "
        f"page-cache hits {run['page_cache_hit']:.2%}, Varnish hits {run['varnish_hit']:.2%}, "
        f"errors {run['errors']}, load {run['load'][0]}→{run['load'][1]}"
    )


def summarise(args, runs, mix, page_count):
    def median(kind, key):
        return statistics.median(run[key] for run in runs[kind])

    base, busy = {}, {}
    for key in ("rps", "p50_ms", "p99_ms", "page_cache_hit", "varnish_hit", "cached"):
        base[key] = median("no-edit", key)
        busy[key] = median("edit", key)
    corrections = [c for run in runs["edit"] for c in run["editor"]["corrections"]]
    return {
        "via": "varnish" if args.varnish_url else "gunicorn",
        "duration_s": args.duration,
        "rounds": args.rounds,
        "connections": args.connections,
        "workers": args.workers,
        "pages": page_count,
        "mix": mix,
        "zipf_s": args.zipf_s,
        "no_edit": base,
        "edit": busy,
        "throughput_ratio": round(busy["rps"] / base["rps"], 3) if base["rps"] else None,
        "p99_ratio": round(busy["p99_ms"] / base["p99_ms"], 2) if base["p99_ms"] else None,
        "corrections": corrections,
        "runs": runs,
    }


def report(results):
    via_varnish = results["via"] == "varnish"
    print()
    header = f"{'run':<8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'page hits':>10}"
    header += f" {'Varnish hits':>13} {'cached':>8}" if via_varnish else ""
    print(header)
    print("-" * len(header))
    for label, key in (("no-edit", "no_edit"), ("edit", "edit")):
        row = results[key]
        line = (
            f"{label:<8} {row['rps']:>8.0f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
            f"{row['page_cache_hit']:>10.2%}"
        )
        if via_varnish:
            line += f" {row['varnish_hit']:>13.2%} {row['cached']:>8.2%}"
        print(line)
    print()
    for run in results["runs"]["edit"]:
        for name, action in run["editor"]["actions"].items():
            print(
                f"editor: {name:<15} x{action['count']:<3} median {action['median_ms']} ms, "
                f"at most {action['max_late_s']} s late"
            )
        for error in run["editor"]["errors"]:
            print(f"editor error: {error}")
    print()
    failures = []

    def check(label, value, target, met, shown):
        print(f"{label}: {shown} (target {target}) {'ok' if met else 'MISSED'}")
        if not met:
            failures.append(label)

    ratio = results["throughput_ratio"]
    check(
        "throughput edit / no-edit",
        ratio,
        ">= 0.90",
        ratio and ratio >= THROUGHPUT_RATIO_TARGET,
        f"{ratio}",
    )
    ratio = results["p99_ratio"]
    check("p99 edit / no-edit", ratio, "<= 3", ratio and ratio <= P99_RATIO_TARGET, f"{ratio}")
    share = results["edit"]["cached" if via_varnish else "page_cache_hit"]
    check(
        "hit share, edit run" + (" (Varnish or page cache)" if via_varnish else ""),
        share,
        ">= 99%",
        share >= HIT_SHARE_TARGET,
        f"{share:.2%}",
    )
    limit = VISIBLE_TARGET_VARNISH_SECONDS if via_varnish else VISIBLE_TARGET_SECONDS
    for correction in results["corrections"]:
        times = correction["pages"]
        shown = ", ".join(
            f"{name} {value if value is not None else 'never'}" for name, value in times.items()
        )
        waits = [value for value in times.values() if value != "not listed"]
        worst = None if None in waits else max(waits, default=None)
        check(
            f"correction on {correction['article']} visible everywhere",
            worst,
            f"<= {limit:g} s",
            worst is not None and worst <= limit,
            f"{worst} s ({shown}; the save took {correction['save_s'] * 1000:.0f} ms)",
        )
    if not results["corrections"]:
        failures.append("no correction made (run 31 s or longer)")
    print()
    print("targets missed: " + (", ".join(failures) if failures else "none"))


if __name__ == "__main__":
    main()
