"""gunicorn and wrk for the page and busy-day benchmarks."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def start_gunicorn(*, port, workers, log_path, env=None):
    """gunicorn (sync workers) serving bench.settings with this process's environment.

    `env` adds or overrides variables for this server only (the cache-off server sets
    BENCH_CACHE=dummy). Ready when any HTTP answer comes back: with every cache off the
    health check may answer 503, which still means a worker is serving.
    """
    gunicorn = BASE_DIR / ".venv" / "bin" / "gunicorn"
    command = [
        str(gunicorn if gunicorn.exists() else shutil.which("gunicorn")),
        "newsroom.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
    ]
    log = open(log_path, "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited at start-up; see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10):
                return process
        except urllib.error.HTTPError:
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


def fetch(url, *, header="X-Page-Cache", timeout=30):
    """(status, the page cache's header, body) of an anonymous GET."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.headers.get(header, ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get(header, ""), error.read()


def drain(base):
    """Wait until requests wrk left queued in gunicorn's backlog have been answered."""
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=120) as response:
            response.read()
    except urllib.error.HTTPError:
        pass


def run_wrk(url, *, script, threads=2, connections=16, duration=5, script_args=()):
    """One wrk run; the script's JSON line as a dict, with req/s added."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        url,
    ]
    if script_args:
        command += ["--", *script_args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    result = json.loads(output.splitlines()[-1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def load_average():
    """The 1-minute load average, to quote with the figures."""
    return os.getloadavg()[0]
