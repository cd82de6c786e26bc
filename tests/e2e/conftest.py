"""Browser tests: Debian's Chromium, driven by Playwright, against pytest-django's live server.

Without Chromium at /usr/bin/chromium the tests here are skipped with one line, so that
`make test` works on any machine; in CI (CI set) a missing browser is an error instead.
"""

import io
import os
import re
from pathlib import Path

import pytest

from tests.e2e.support import (
    SKIP_REASON,
    Person,
    SMTPServer,
    chromium_available,
    launch_chromium,
)

# The live server listens on the IPv4 loopback address the browser is sent to.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "e2e-artifacts"
E2E_DIR = Path(__file__).resolve().parent
_skipped = pytest.StashKey[int]()


@pytest.hookimpl(trylast=True)  # after -m has deselected what will not run
def pytest_collection_modifyitems(config, items):
    if chromium_available() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    count = 0
    for item in items:
        if E2E_DIR in Path(item.path).parents:
            item.add_marker(skip)
            count += 1
    config.stash[_skipped] = count


def pytest_terminal_summary(terminalreporter, config):
    if config.stash.get(_skipped, 0):
        terminalreporter.write_line(SKIP_REASON, yellow=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run; each test gets its own context."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in the main thread, which
    # Django's async-safety guard would otherwise mistake for async code using the ORM.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = launch_chromium(playwright)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site_url(live_server, settings):
    """The live server's address, also used for absolute links in email and feeds."""
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def new_page(browser, site_url, request):
    """Open a page in a fresh browser context (its own cookies): one per person in a test.

    Every request to another host is blocked and reported: the site promises no outside
    scripts, fonts or trackers. Uncaught JavaScript errors fail the test too.
    """
    contexts = []
    outside_requests = []
    page_errors = []

    def block_outside(route):
        outside_requests.append(route.request.url)
        route.abort()

    def open_page(*, width=1280, height=900, java_script=True):
        context = browser.new_context(
            base_url=site_url,
            viewport={"width": width, "height": height},
            locale="en-GB",
            timezone_id="UTC",
            java_script_enabled=java_script,
        )
        context.set_default_timeout(10_000)
        context.route(lambda url: not url.startswith(site_url), block_outside)
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        contexts.append(context)
        return page

    yield open_page

    failed = any(
        getattr(getattr(request.node, f"report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )
    if failed:
        _save_artifacts(request.node.nodeid, contexts)
    for context in contexts:
        context.close()
    if not failed:
        assert not outside_requests, f"requests to other hosts: {outside_requests}"
        assert not page_errors, f"JavaScript errors: {page_errors}"


def _save_artifacts(nodeid, contexts):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)
    for number, context in enumerate(contexts):
        for page_number, page in enumerate(context.pages):
            name = f"{stem}-{number}-{page_number}"
            try:
                page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
                (ARTIFACTS / f"{name}.html").write_text(page.content(), encoding="utf-8")
            except Exception as error:  # a crashed page must not hide the real failure
                print(f"could not save {name}: {error}")
    print(f"Screenshots of the failed test: {ARTIFACTS}/{stem}-*.png")


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1 that the site sends through; yields its mailbox."""
    with SMTPServer() as server:
        settings.MAILERS = server.mailer_settings
        yield server.mailbox


def _staff(username, group, *, first_name, last_name):
    from django.contrib.auth.models import Group, Permission

    from newsroom.roles import sync_groups
    from tests.factories import StaffFactory

    # The groups come from a migration; the flush between live-server tests empties the
    # table and its post_migrate signal (sent without `apps`) does not refill it.
    sync_groups(Group, Permission)
    user = StaffFactory(username=username, first_name=first_name, last_name=last_name)
    user.groups.add(Group.objects.get(name=group))
    return Person(user)


def _demo_account(username):
    """One of the accounts `make run` creates (ensure_demo_editor), with its real role."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.core.management import call_command

    from newsroom.management.commands.ensure_demo_editor import DEMO_PASSWORD
    from newsroom.roles import sync_groups

    sync_groups(Group, Permission)  # see _staff()
    call_command("ensure_demo_editor", stdout=io.StringIO())
    return Person(get_user_model().objects.get(username=username), password=DEMO_PASSWORD)


@pytest.fixture
def demo_editor(db):
    """`editor`: an Editor and Newsletter editor, as on a developer's machine."""
    return _demo_account("editor")


@pytest.fixture
def demo_writer(db):
    """`writer`: a Contributor."""
    return _demo_account("writer")


@pytest.fixture
def editor(db):
    """A member of the Editor group (made by the articles migrations): may publish."""
    return _staff("eleanor", "Editor", first_name="Eleanor", last_name="Vance")


@pytest.fixture
def contributor(db):
    """A member of the Contributor group: writes drafts, submits them, never publishes."""
    return _staff("colin", "Contributor", first_name="Colin", last_name="Marsh")


@pytest.fixture
def newsletter_editor(db):
    return _staff("nadia", "Newsletter editor", first_name="Nadia", last_name="Reyes")


@pytest.fixture
def newsroom(db):
    """A small publication: two sections, three authors, five published stories with
    credited pictures and tags, a draft, and a correction."""
    from datetime import timedelta
    from types import SimpleNamespace

    from django.utils import timezone
    from django.utils.text import slugify

    from articles import images
    from articles.models import Article, Note
    from tests.factories import ArticleFactory, AuthorFactory, ImageFactory, SectionFactory

    asia = SectionFactory(name="Asia-Pacific", slug="asia-pacific", position=0)
    europe = SectionFactory(name="Europe", slug="europe", position=1)
    portrait = ImageFactory(
        alt_text="Portrait of Mira Takeda", caption="", credit="Newsroom staff", source=""
    )
    takeda = AuthorFactory(
        name="Mira Takeda",
        slug="mira-takeda",
        role="Asia editor",
        bio="Covers diplomacy and trade across the Pacific.",
        photo=portrait,
    )
    okafor = AuthorFactory(name="Daniel Okafor", slug="daniel-okafor", role="Correspondent")
    lind = AuthorFactory(name="Elin Lind", slug="elin-lind", role="Europe correspondent")
    now = timezone.now()
    inline = ImageFactory(
        alt_text="Fishing boats moored in a harbour at dawn",
        caption="Boats wait out the storm in the harbour.",
        credit="Kenji Sato/Harbour Photos",
        source="via Example Images",
    )
    body = (
        "<p>The monsoon arrived three weeks early this year, and ports along the coast "
        "closed for days.</p>"
        "<h2>What the delay costs</h2>"
        "<p>Shipping companies counted their losses in container days.</p>"
        f'<figure data-image-id="{inline.pk}"><img src="{inline.file.url}" '
        f'alt="{inline.alt_text}" data-image-id="{inline.pk}">'
        "<figcaption>Boats wait out the storm in the harbour.</figcaption></figure>"
        "<ul><li>Ports closed for five days</li><li>Two shipping lanes rerouted</li></ul>"
        "<p>Insurers expect the claims to arrive in the autumn.</p>"
    )
    stories = []
    for number, (title, section, authors, tags) in enumerate(
        [
            (
                "Monsoon shuts the ports of the south coast",
                asia,
                [takeda, okafor],
                ["weather", "trade"],
            ),
            ("Parliament votes on the new budget", europe, [lind], ["politics"]),
            ("A quiet summit in the islands", asia, [okafor], ["diplomacy", "trade"]),
            ("Rail strike enters its second week", europe, [lind, takeda], ["labour"]),
            ("Fishermen count the cost of a warm sea", asia, [takeda], ["weather"]),
        ]
    ):
        lead = ImageFactory(
            alt_text=f"Scene for: {title}",
            caption=f"A photograph for the story {number + 1}.",
            credit=f"Photographer {number + 1}/Agency",
        )
        article = ArticleFactory(
            published=True,
            title=title,
            slug=slugify(title),
            dek=f"The dek of story {number + 1}: what happened and why it matters.",
            kind=Article.Kind.ANALYSIS if number % 2 == 0 else Article.Kind.NEWS,
            section=section,
            authors=authors,
            lead_image=lead,
            body=body if number == 0 else f"<p>{title}: the story in full.</p><p>More soon.</p>",
            publish_at=now - timedelta(hours=number + 1),
            first_published_at=now - timedelta(hours=number + 1),
        )
        article.tags.add(*tags)
        stories.append(article)
    for image in [portrait, inline, *(story.lead_image for story in stories)]:
        images.ensure_renditions(image)
    draft = ArticleFactory(title="An unfinished draft", section=asia, authors=[okafor])
    correction = Note.objects.create(
        article=stories[0],
        kind=Note.Kind.CORRECTION,
        text="An earlier version of this article gave the wrong date for the closures.",
    )
    return SimpleNamespace(
        article=stories[0],
        stories=stories,
        draft=draft,
        sections=[asia, europe],
        authors=[takeda, okafor, lind],
        inline_image=inline,
        correction=correction,
        search_word="monsoon",
    )
