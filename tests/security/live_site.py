"""Run the real site under gunicorn for the failure tests and bench/load_test.py."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def production_like_environment(*, port, database_url, static_root, media_root, **extra):
    """DEBUG off, a real secret, hashed static files: the site as production runs it,
    on plain http:// so no TLS proxy is needed."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_", "DEBUG", "REDIS_URL", "EMAIL_"))
    }
    environ.update(
        DEBUG="0",
        SECRET_KEY="live-site-" + "s" * 50,
        SITE_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=database_url,
        STATIC_ROOT=str(static_root),
        MEDIA_ROOT=str(media_root),
        LOG_LEVEL="WARNING",
        **{key: str(value) for key, value in extra.items()},
    )
    return environ


def collectstatic(environ):
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=environ,
        check=True,
    )


def wait_until_up(base_url, *, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(base_url + "/robots.txt", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on {base_url} within {timeout}s")


@contextlib.contextmanager
def gunicorn(environ, *, port, workers=1, threads=1, log_path=None):
    """gunicorn serving newsroom.wsgi on 127.0.0.1:port until the block ends."""
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "newsroom.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "30",
            "--graceful-timeout",
            "3",
        ],
        cwd=BASE_DIR,
        env=environ,
        stdout=log,
        stderr=log,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, process=process)
        yield base_url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log_path:
            log.close()
