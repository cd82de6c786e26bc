"""deploy/varnish/newsroom.vcl in a real varnishd: first in front of a small fake backend
(what the VCL keeps, passes and purges), then in front of the site itself (a correction
reaches every page showing the article through Varnish; a draft save purges nothing).

Skipped where varnishd or vmod xkey is missing, except under CI (CI=1), where that fails.
"""

import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from articles.models import Note
from articles.services import add_note, save_article
from articles.templatetags.articles_tags import iso
from newsroom.pagecache import purgers
from tests.factories import ArticleFactory, SectionFactory, StaffFactory

VCL = Path(__file__).resolve().parents[2] / "deploy" / "varnish" / "newsroom.vcl"
XKEY_VMOD = Path("/usr/lib/x86_64-linux-gnu/varnish/vmods/libvmod_xkey.so")


def varnish_or_skip():
    varnishd = shutil.which("varnishd") or (
        "/usr/sbin/varnishd" if os.access("/usr/sbin/varnishd", os.X_OK) else None
    )
    missing = None
    if varnishd is None:
        missing = "varnishd is not installed (apt-get install varnish varnish-modules)"
    elif not list(Path("/usr/lib").glob("*/varnish/vmods/libvmod_xkey.so")) and not (
        XKEY_VMOD.exists()
    ):
        missing = "vmod xkey is not installed (apt-get install varnish-modules)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    return varnishd


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render_vcl(backend_port, backend_host="127.0.0.1"):
    """The shipped VCL with the backend an operator would edit in."""
    text = VCL.read_text()
    default = '.host = "127.0.0.1";\n    .port = "8000";'
    assert default in text, "the VCL's backend block changed: update render_vcl()"
    return text.replace(default, f'.host = "{backend_host}";\n    .port = "{backend_port}";')


class Varnish:
    def __init__(self, varnishd, workdir, backend_port):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        vcl = workdir / "newsroom.vcl"
        vcl.write_text(render_vcl(backend_port))
        self.log = open(workdir / "varnishd.log", "wb")  # noqa: SIM115
        command = [varnishd, "-F", "-n", str(workdir / "n"), "-a", f"127.0.0.1:{self.port}"]
        command += ["-f", str(vcl), "-s", "malloc,64m", "-T", "none", "-p", "http_gzip_support=off"]
        if os.geteuid() == 0:
            command += ["-j", "none"]  # no varnish user needed for a private test instance
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_until_listening(workdir)

    def _wait_until_listening(self, workdir):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.flush()
                output = (workdir / "varnishd.log").read_text(errors="replace")
                pytest.fail(f"varnishd stopped at start:\n{output}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail("varnishd did not start listening within 30 s")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode()


def fetch(url, *, method="GET", headers=None):
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


# --- the VCL in front of a fake backend ------------------------------------------


class FakeBackend(ThreadingHTTPServer):
    """Pages by path; every answer counts and echoes what reached the backend."""

    daemon_threads = True
    pages = {
        "/page/": (
            200,
            {"Cache-Control": "public, max-age=60, s-maxage=300", "Vary": "Accept-Encoding"},
        ),
        "/unmarked/": (200, {}),
        "/private/": (200, {"Cache-Control": "private, no-cache"}),
        "/boom/": (503, {"Cache-Control": "public, s-maxage=300"}),
    }

    def __init__(self):
        self.requests = []
        self.keys = {}
        super().__init__(("127.0.0.1", 0), FakePage)

    def served(self, path):
        return sum(1 for request in self.requests if request["path"] == path)


class FakePage(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path
        self.server.requests.append(
            {
                "path": path,
                "cookie": self.headers.get("Cookie"),
                "accept-encoding": self.headers.get("Accept-Encoding"),
            }
        )
        status, headers = self.server.pages.get(path.split("?")[0], (404, {}))
        body = f"{path} #{len(self.server.requests)}".encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        keys = self.server.keys.get(path.split("?")[0], "all")
        self.send_header("xkey", keys)
        self.send_header("Surrogate-Key", keys)
        self.send_header("Cache-Tag", keys.replace(" ", ","))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def fake_backend():
    server = FakeBackend()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def varnish_on_fake(fake_backend, tmp_path_factory):
    varnish = Varnish(
        varnish_or_skip(), tmp_path_factory.mktemp("varnish"), fake_backend.server_port
    )
    yield varnish
    varnish.stop()


class Through:
    """Requests to Varnish under a host name of the test's own, so each test starts with
    an empty cache (a soft purge would leave copies in grace)."""

    count = 0

    def __init__(self, varnish):
        Through.count += 1
        self.url, self.host = varnish.url, f"test-{Through.count}.example.com"

    def get(self, path, *, method="GET", headers=None):
        return fetch(self.url + path, method=method, headers={"Host": self.host, **(headers or {})})


@pytest.fixture
def backend(fake_backend):
    fake_backend.requests.clear()
    fake_backend.keys.clear()
    return fake_backend


@pytest.fixture
def varnish(varnish_on_fake):
    return Through(varnish_on_fake)


def test_a_public_page_is_fetched_once_then_served_from_the_cache(backend, varnish):
    first = varnish.get("/page/")
    second = varnish.get("/page/")

    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert second.text == first.text
    assert backend.served("/page/") == 1


def test_dependency_keys_do_not_reach_readers(backend, varnish):
    answer = varnish.get("/page/")

    for header in ("xkey", "Surrogate-Key", "Cache-Tag"):
        assert header not in answer.headers


def test_tracking_and_unknown_parameters_share_the_plain_pages_copy(backend, varnish):
    varnish.get("/page/")

    for query in ("?utm_source=x", "?utm_source=x&fbclid=abc", "?junk", "?"):
        assert varnish.get("/page/" + query).headers["X-Cache"] == "HIT", query
    assert backend.served("/page/") == 1


def test_parameters_a_page_reads_make_their_own_copy(backend, varnish):
    varnish.get("/page/?page=2&utm_medium=email")

    assert varnish.get("/page/?page=2").headers["X-Cache"] == "HIT"
    assert varnish.get("/page/?page=3").headers["X-Cache"] == "MISS"
    assert varnish.get("/page/").headers["X-Cache"] == "MISS"
    for query in ("?q=vote", "?p=12", "?page_id=7", "?attachment_id=9"):
        assert varnish.get("/page/" + query).headers["X-Cache"] == "MISS", query
    # Order does not matter.
    varnish.get("/page/?q=vote&page=2")
    assert varnish.get("/page/?page=2&q=vote").headers["X-Cache"] == "HIT"


def test_the_backend_still_gets_the_address_as_sent(backend, varnish):
    varnish.get("/page/?utm_source=x")

    assert backend.requests[-1]["path"] == "/page/?utm_source=x"


def test_host_and_scheme_are_part_of_the_key(backend, varnish):
    varnish.get("/page/")

    other_host = varnish.get("/page/", headers={"Host": "other." + varnish.host})
    https = varnish.get("/page/", headers={"X-Forwarded-Proto": "https"})

    assert (other_host.headers["X-Cache"], https.headers["X-Cache"]) == ("MISS", "MISS")
    assert varnish.get("/page/").headers["X-Cache"] == "HIT"


def test_gzip_and_plain_readers_each_have_one_copy(backend, varnish):
    for accept in ("gzip, deflate, br, zstd", "gzip", "br", None, "gzip;q=1.0, identity"):
        varnish.get("/page/", headers={"Accept-Encoding": accept} if accept else {})

    assert [request["accept-encoding"] for request in backend.requests] == ["gzip", None]


def test_a_session_cookie_passes_and_other_cookies_are_dropped(backend, varnish):
    varnish.get("/page/")

    reader = varnish.get("/page/", headers={"Cookie": "csrftoken=abc; _ga=1"})
    signed_in = varnish.get("/page/", headers={"Cookie": "csrftoken=a; sessionid=s"})

    assert reader.headers["X-Cache"] == "HIT"
    assert signed_in.headers["X-Cache"] == "PASS"
    assert backend.requests[-1]["cookie"] == "csrftoken=a; sessionid=s"


def test_the_admin_and_health_check_pass(backend, varnish):
    for path in ("/admin/", "/healthz"):
        varnish.get(path)
        assert varnish.get(path).headers["X-Cache"] == "PASS", path
        assert backend.served(path) == 2


def test_only_what_the_site_marks_public_is_kept(backend, varnish):
    for path in ("/unmarked/", "/private/", "/missing/"):
        varnish.get(path)
        varnish.get(path)
        assert backend.served(path) == 2, path


def test_a_server_error_is_never_kept(backend, varnish):
    first = varnish.get("/boom/")
    varnish.get("/boom/")

    assert first.status == 503
    assert backend.served("/boom/") == 2


def test_a_purge_by_key_refreshes_only_the_pages_with_that_key(backend, varnish):
    backend.keys["/page/"] = "all a1 list"
    varnish.get("/page/")
    varnish.get("/page/?page=2")
    backend.keys["/page/"] = "all a2"
    varnish.get("/page/?page=3")

    purged = varnish.get("/", method="PURGE", headers={"xkey-purge": "a1 s9"})

    assert purged.status == 200
    assert "Invalidated 2 objects" in purged.text
    # A soft purge: the old copy is served once while the new one is fetched.
    assert varnish.get("/page/").headers["X-Cache"] == "STALE"
    time.sleep(0.2)
    assert varnish.get("/page/").headers["X-Cache"] == "HIT"
    assert backend.served("/page/") == 2
    assert varnish.get("/page/?page=3").headers["X-Cache"] == "HIT"


def test_a_purge_without_keys_is_refused(backend, varnish):
    assert varnish.get("/", method="PURGE").status == 400


# --- the site through Varnish ----------------------------------------------------

CORRECTION = "The vote was on Tuesday, not Monday (correction 7f3a)."


REPEAT = 0.3  # CACHE_PURGE_REPEAT_SECONDS here (1 s by default): shorter tests


@pytest.fixture(scope="module")
def varnish_on_site(live_server, tmp_path_factory):
    backend_port = urlsplit(live_server.url).port
    varnish = Varnish(varnish_or_skip(), tmp_path_factory.mktemp("varnish-site"), backend_port)
    yield varnish
    varnish.stop()


@pytest.fixture
def site(varnish_on_site, settings):
    """The site as readers reach it: through Varnish, which Newsroom purges."""
    settings.CACHE_PURGE_URLS = [varnish_on_site.url]
    settings.CACHE_PURGE_REPEAT_SECONDS = REPEAT
    # Each test under its own host name, so it starts with nothing cached.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".example.com"]
    return Through(varnish_on_site)


@pytest.fixture
def purges(monkeypatch):
    """Every set of keys Newsroom sends to the caches in front (and still sends it)."""
    sent = []
    send = purgers.send

    def recording(keys):
        keys = list(keys)
        sent.append(keys)
        send(keys)

    monkeypatch.setattr(purgers, "send", recording)
    return sent


@pytest.fixture
def story():
    section = SectionFactory(name="World", slug="world")
    return ArticleFactory(
        published=True,
        section=section,
        title="Parliament votes on the budget",
        publish_at=timezone.now() - timedelta(hours=2),
    )


def pages_showing(article):
    return {
        "article": article.get_absolute_url(),
        "home": "/",
        "section": f"/section/{article.section.slug}/",
        "feed": "/feed/",
    }


def warm(site, paths):
    time.sleep(REPEAT + 0.1)  # the purges of the test's own set-up are sent again: let them
    for path in paths.values():
        site.get(path)
    for name, path in paths.items():
        answer = site.get(path)
        assert answer.status == 200, (name, answer.status)
        assert answer.headers["X-Cache"] == "HIT", (name, answer.headers["X-Cache"])


@pytest.mark.django_db(transaction=True)
def test_a_correction_reaches_every_page_showing_the_article_through_varnish_within_2_s(
    site, story, purges
):
    paths = pages_showing(story)
    warm(site, paths)

    add_note(article=story, kind=Note.Kind.CORRECTION, text=CORRECTION)
    committed = time.monotonic()
    story.refresh_from_db()
    shows = {
        "article": CORRECTION,
        "home": f'Updated <time datetime="{iso(story.updated_at)}"',
        "section": f'Updated <time datetime="{iso(story.updated_at)}"',
        "feed": CORRECTION,
    }

    seen = {}
    while len(seen) < len(paths) and time.monotonic() - committed < 2:
        for name, path in paths.items():
            if name not in seen and shows[name] in site.get(path).text:
                seen[name] = round(time.monotonic() - committed, 3)
        time.sleep(0.02)

    assert purges, "the correction sent a purge"
    assert set(seen) == set(paths), f"seen within 2 s: {seen}"


@pytest.mark.django_db(transaction=True)
def test_a_draft_save_purges_nothing_and_the_pages_stay_varnish_hits(site, story, purges):
    draft = ArticleFactory(section=story.section, title="Not yet for readers")
    editor = StaffFactory(is_superuser=True)
    paths = pages_showing(story)
    warm(site, paths)

    draft.title = "Still not for readers"
    save_article(article=draft, by=editor)

    assert purges == []
    for name, path in paths.items():
        answer = site.get(path)
        assert answer.headers["X-Cache"] == "HIT", name


@pytest.mark.django_db(transaction=True)
def test_tracking_parameters_get_the_home_pages_copy(site, story):
    warm(site, {"home": "/"})

    answer = site.get("/?utm_source=newsletter&utm_medium=email")

    assert answer.headers["X-Cache"] == "HIT"
    assert story.title in answer.text
