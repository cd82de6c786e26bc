#!/usr/bin/env python
"""`make screenshots`: PNGs of every public page at 390 and 1280 px, and of the round-up email
at 390 and 800 px (a phone, and a desktop mail client's reading pane).

Builds a throwaway copy of the site in a temporary folder (SQLite database, media, static
files) with the demo content, serves it with gunicorn and production settings on a free
port of 127.0.0.1, and photographs it with Debian's Chromium. Nothing under var/ other
than var/screenshots/ is touched. Usage: bin/screenshots.py [--out DIR] [--only NAME ...]
"""

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from tests.e2e.support import (  # noqa: E402 (needs the project on sys.path)
    CHROMIUM,
    chromium_available,
    free_port,
    launch_chromium,
)

WIDTHS = (390, 1280)
EMAIL_WIDTHS = (390, 800)
PYTHON = sys.executable


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BASE_DIR / "var" / "screenshots")
    parser.add_argument("--only", nargs="*", help="page names to take, e.g. home article")
    options = parser.parse_args()
    if not chromium_available():
        sys.exit(f"Chromium not found at {CHROMIUM}: install it with `apt-get install chromium`.")

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="newsroom-screenshots-") as folder:
        port = free_port()
        site_url = f"http://127.0.0.1:{port}"
        environment = site_environment(Path(folder), site_url)
        os.environ.update(environment)
        run_manage("migrate", "--noinput", "-v", "0")
        run_manage("collectstatic", "--noinput", "-v", "0")
        run_manage("seed_demo")
        run_manage("ensure_demo_editor")
        print(f"Demo site built in {time.monotonic() - started:.0f} s")
        pages, email_html = prepare_pages(site_url)
        roundup_path = Path(folder) / "roundup.html"
        roundup_path.write_text(email_html, encoding="utf-8")
        pages.append(Shot("roundup-email", roundup_path.as_uri(), widths=EMAIL_WIDTHS))
        if options.only:
            pages = [shot for shot in pages if shot.name in options.only]

        server = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "newsroom.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--log-level", "warning"],
            cwd=BASE_DIR,
            env={**os.environ, **environment},
        )  # fmt: skip
        try:
            wait_for_server(f"{site_url}/healthz", server)
            written = photograph(pages, options.out)
        finally:
            server.terminate()
            server.wait(timeout=20)
    for path in written:
        print(path.relative_to(BASE_DIR) if path.is_relative_to(BASE_DIR) else path)
    print(f"{len(written)} screenshots in {time.monotonic() - started:.0f} s")


def site_environment(folder, site_url):
    """Production-like settings for a site that lives only in `folder`."""
    environment = {
        "DATABASE_URL": f"sqlite:///{folder / 'site.sqlite3'}",
        "MEDIA_ROOT": str(folder / "media"),
        "STATIC_ROOT": str(folder / "static"),
        "SITE_URL": site_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "LOG_LEVEL": "WARNING",
        # The demo runs in one named zone, as `make run` does.
        "TIME_ZONE": os.environ.get("TIME_ZONE") or "Europe/London",
    }
    for name in ("REDIS_URL", "EMAIL_HOST"):  # a shared cache or a real mail server
        os.environ.pop(name, None)
    return environment


def run_manage(*arguments):
    subprocess.run([PYTHON, "manage.py", *arguments], cwd=BASE_DIR, check=True)


class Shot:
    """One page to photograph: a name, its URL (or one URL per width) and what to do
    before the picture is taken."""

    def __init__(self, name, url, *, action=None, widths=WIDTHS, cookies=None):
        self.name = name
        self.widths = widths
        self.urls = url if isinstance(url, dict) else dict.fromkeys(widths, url)
        self.action = action
        self.cookies = cookies or []


def prepare_pages(site_url):
    """The pages to photograph and the round-up email, read from the demo content."""
    import django

    django.setup()
    from taggit.models import Tag

    from articles.models import Article, Author, Section

    published = Article.objects.published().newest_first()
    # The article page at its fullest: pictures in the body, a correction, a lead image.
    pictured = published.filter(lead_image__isnull=False)
    with_figures = pictured.filter(body__contains="<figure")
    article = (
        with_figures.filter(notes__isnull=False).first()
        or with_figures.first()
        or pictured.first()
        or published.first()
    )
    if article is None:
        sys.exit("seed_demo made no published article: nothing to photograph.")
    author = Author.objects.filter(articles__in=published).distinct().first()
    section = Section.objects.filter(articles__in=published).distinct().first()
    tag = Tag.objects.filter(article__in=published).distinct().first()
    word = search_word(article)

    pages = [
        Shot("home", f"{site_url}/"),
        Shot("article", f"{site_url}{article.get_absolute_url()}"),
        Shot("section", f"{site_url}{section.get_absolute_url()}"),
        Shot("author", f"{site_url}{author.get_absolute_url()}"),
        Shot("search", f"{site_url}/search/?q={word}"),
        Shot("search-empty", f"{site_url}/search/?q=zzzxqy"),
        Shot("home-page-2", f"{site_url}/?page=2"),
        Shot("corrections", f"{site_url}/corrections/"),
        Shot("not-found", f"{site_url}/no-such-page/"),
    ]
    if tag is not None:
        pages.append(Shot("tag", f"{site_url}/tag/{tag.slug}/"))
    pages += newsletter_pages(site_url)
    pages += editor_pages(site_url, article)
    return pages, roundup_email(site_url, published)


def editor_pages(site_url, article):
    """The desk, the article editor and the front-page screen, signed in as the demo editor
    (a session made here, so the pictures do not depend on the sign-in form)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )

    editor = get_user_model().objects.get(username="editor")
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(editor.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = editor.get_session_auth_hash()
    session.create()
    cookies = [
        {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": site_url}
    ]

    def settle(page):
        page.locator(".ProseMirror[contenteditable=true]").first.wait_for()
        page.wait_for_timeout(1500)  # the live checklist's first answer

    admin = f"{site_url}/{settings.ADMIN_PATH}"
    return [
        Shot("admin-desk", admin, cookies=cookies),
        Shot(
            "admin-editor",
            f"{admin}articles/article/{article.pk}/change/",
            action=settle,
            cookies=cookies,
        ),
        Shot("admin-editor-new", f"{admin}articles/article/add/", action=settle, cookies=cookies),
        Shot("admin-front-page", f"{admin}articles/frontpagestory/", cookies=cookies),
    ]


def search_word(article):
    import re

    from django.utils.html import strip_tags

    words = re.findall(r"[A-Za-z]{7,}", strip_tags(article.body))
    return words[0].lower() if words else article.title.split()[0]


def newsletter_pages(site_url):
    from django.urls import reverse

    from newsletter.models import Subscriber
    from newsletter.tokens import make_confirm_token, make_unsubscribe_token

    def confirm_urls(label):
        """A pending subscriber per width: pressing Confirm changes what the link shows."""
        urls = {}
        for width in WIDTHS:
            pending = Subscriber.objects.create(email=f"{label}.{width}@example.com")
            token = make_confirm_token(pending)
            urls[width] = site_url + reverse("newsletter:confirm", kwargs={"token": token})
        return urls

    def unsubscribe_urls(label):
        urls = {}
        for width in WIDTHS:
            active = Subscriber.objects.create(
                email=f"{label}.{width}@example.com", status=Subscriber.Status.ACTIVE
            )
            token = make_unsubscribe_token(active)
            urls[width] = site_url + reverse("newsletter:unsubscribe", kwargs={"token": token})
        return urls

    def press_submit(page):
        page.locator("main form button, main form [type=submit]").first.click()
        page.wait_for_load_state()

    def sign_up(page):
        form = page.locator("main form").first
        form.locator("input[name=email]").fill("new.reader@example.com")
        press_submit(page)

    return [
        Shot("newsletter", f"{site_url}/newsletter/"),
        Shot("newsletter-signed-up", f"{site_url}/newsletter/", action=sign_up),
        Shot("newsletter-confirm", confirm_urls("confirm")),
        Shot("newsletter-confirmed", confirm_urls("confirmed"), action=press_submit),
        Shot("newsletter-unsubscribe", unsubscribe_urls("unsubscribe")),
        Shot("newsletter-unsubscribed", unsubscribe_urls("unsubscribed"), action=press_submit),
    ]


def roundup_email(site_url, published):
    from django.urls import reverse

    from newsletter.emails import render_roundup
    from newsletter.models import Issue, IssueArticle, Subscriber
    from newsletter.tokens import make_unsubscribe_token

    issue = Issue.objects.create(
        subject="The week in analysis",
        intro="Five stories we think you should read this week.\n\nThank you for reading.",
    )
    for position, article in enumerate(published[:5]):
        IssueArticle.objects.create(issue=issue, article=article, position=position)
    reader = Subscriber.objects.create(
        email="roundup.reader@example.com", status=Subscriber.Status.ACTIVE
    )
    unsubscribe_url = site_url + reverse(
        "newsletter:unsubscribe", kwargs={"token": make_unsubscribe_token(reader)}
    )
    _text, html = render_roundup(issue, unsubscribe_url=unsubscribe_url)
    return html


def wait_for_server(url, server, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the site did not start (gunicorn exited with {server.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"the site did not answer {url} within {timeout}s")


def photograph(pages, out):
    """Each page in a fresh browser context (so sign-ups and confirmations start clean)."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for shot in pages:
            for width in shot.widths:
                context = browser.new_context(
                    viewport={"width": width, "height": 900},
                    device_scale_factor=1,
                    locale="en-GB",
                    timezone_id="UTC",
                )
                if shot.cookies:
                    context.add_cookies(shot.cookies)
                page = context.new_page()
                response = page.goto(shot.urls[width], wait_until="load")
                if response is not None and response.status >= 500:
                    sys.exit(f"{shot.name}: {shot.urls[width]} answered {response.status}")
                if shot.action:
                    shot.action(page)
                # Lazy images load only in view: scroll through the page, then back up.
                page.evaluate(
                    "async () => { for (let y = 0; y < document.body.scrollHeight; y += 600)"
                    " { window.scrollTo(0, y); await new Promise(r => setTimeout(r, 30)); }"
                    " window.scrollTo(0, 0); }"
                )
                page.wait_for_load_state("networkidle")
                path = out / f"{shot.name}-{width}.png"
                page.screenshot(path=path, full_page=True)
                written.append(path)
                context.close()
        browser.close()
    return written


if __name__ == "__main__":
    main()
