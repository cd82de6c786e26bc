"""Lighthouse (mobile) on the home page and an article, served as in production.

    npm install --prefix bench/lighthouse          # once: Lighthouse 12 (Node 18+)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/newsroom_bench \\
        .venv/bin/python bench/lighthouse/run.py [--port 8112]

Starts gunicorn with the bench settings (DEBUG off, hashed static files), runs Lighthouse
with Debian's Chromium (CHROME_PATH, default /usr/bin/chromium) in its default mobile
mode with simulated throttling, and prints the four category scores against the target
of 98. The JSON and HTML reports go to --output-dir.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE_DIR = HERE.parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import environment, pages  # noqa: E402 (after the path set-up above)

CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
TARGET = 98


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8112)
    parser.add_argument(
        "--output-dir", type=Path, default=Path(tempfile.gettempdir()) / "newsroom-lighthouse"
    )
    parser.add_argument("--skip-collectstatic", action="store_true")
    return parser.parse_args()


def lighthouse(url, output_base, chrome_path):
    binary = HERE / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        sys.exit("Lighthouse is not installed: npm install --prefix bench/lighthouse")
    command = [
        str(binary),
        url,
        "--quiet",
        "--output=json",
        "--output=html",
        f"--output-path={output_base}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage",
    ]
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": chrome_path})
    report = json.loads(Path(f"{output_base}.report.json").read_text())
    scores = {name: round((report["categories"][name]["score"] or 0) * 100) for name in CATEGORIES}
    failed_audits = [
        audit["id"]
        for audit in report["audits"].values()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
    ]
    return scores, failed_audits


def main():
    args = parse_args()
    chrome_path = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    if not Path(chrome_path).exists():
        sys.exit(f"No Chromium at {chrome_path}: apt-get install -y chromium")
    environment.configure(port=args.port)
    if not args.skip_collectstatic:
        environment.collectstatic()
    choice = argparse.Namespace(page=2000, search="", only="home,article")
    urls, _ = pages.choose_pages(choice)
    from django.db import connection

    connection.close()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="newsroom-lighthouse-"))
    server = argparse.Namespace(port=args.port, workers=2)
    process = pages.start_gunicorn(server, workdir / "gunicorn.log")
    results = {}
    try:
        for name, path in urls.items():
            url = f"http://127.0.0.1:{args.port}{path}"
            pages.fetch(url)  # fill the page cache, as for a reader who is not the first
            results[name] = lighthouse(url, args.output_dir / name, chrome_path)
    finally:
        pages.stop(process)
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"{'page':<8} " + " ".join(f"{name:>15}" for name in CATEGORIES))
    missed = []
    for name, (scores, failed) in results.items():
        print(f"{name:<8} " + " ".join(f"{scores[category]:>15}" for category in CATEGORIES))
        missed += [f"{name} {c}" for c in CATEGORIES if scores[c] < TARGET]
        if failed:
            print(f"         audits below full marks: {', '.join(failed)}")
    print(f"reports: {args.output_dir}/<page>.report.html")
    print("targets missed: " + (", ".join(missed) if missed else "none"))


if __name__ == "__main__":
    main()
