"""The writing-first editor, the desk and the front page, in Chromium, as an editor works.

The "Measured" journey of issue 17: write an article with a heading, a link and an inline
image, pick a lead image, bylines, section and tags, fix what the live checklist flags,
schedule it and make it the front page's lead, counting page loads and clicks.
"""

import re
from datetime import timedelta

import pytest
import reversion
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.support import BLOCKING_IMPACTS, describe_violations, run_axe
from tests.e2e.test_editor_journey import ALT, CREDIT, choose, field, type_body, upload_image

pytestmark = pytest.mark.e2e

TITLE = "Storm barriers close for the first time in a decade"
DEK = "The estuary's gates held back a surge that would have flooded three towns."


class Counter:
    """Page loads in the editor's tab, counted twice over: by the page itself in
    sessionStorage (every document that starts in the tab) and by Playwright's "load"
    event of the main frame (documents that finished loading; autosave's
    history.replaceState is neither); and clicks."""

    def __init__(self, page):
        self.page = page
        self.clicks = 0
        self.load_events = 0
        page.add_init_script(
            "if (window === window.top) {"
            " sessionStorage.loads = String(Number(sessionStorage.loads || 0) + 1);"
            " sessionStorage.urls = (sessionStorage.urls || '') + location.pathname + ' '; }"
        )
        page.on("load", self._loaded)

    def _loaded(self, _page):
        self.load_events += 1

    @property
    def loads(self):
        return int(self.page.evaluate("Number(sessionStorage.loads || 0)"))

    @property
    def log(self):
        return self.page.evaluate("sessionStorage.urls || ''").split()

    def click(self, locator):
        self.clicks += 1
        locator.click()


def checklist(page):
    return page.locator("[data-live-checklist]")


def test_measured_journey_write_schedule_and_lead_the_front_page(
    new_page, editor, newsroom, capsys
):
    from articles.models import Article, FrontPageStory, Image

    takeda, okafor, _ = newsroom.authors
    page = new_page()
    editor.log_in(page)
    upload_image(page)  # the picture the journey uses, in the library beforehand
    image = Image.objects.get(alt_text=ALT)
    page.wait_for_load_state("load")  # the upload's page is not the journey's

    counter = Counter(page)
    page.goto(reverse("admin:articles_article_add"))  # the one page load while writing
    loads_at_start = counter.loads - 1  # the new article's form is the first
    field(page, "Title").fill(TITLE)
    expect(checklist(page)).to_contain_text("Choose a section.")
    expect(checklist(page)).to_contain_text("Add at least one author.")
    expect(checklist(page)).to_contain_text("Choose a lead image.")
    # The checklist says what to fix and takes the editor there.
    counter.click(checklist(page).get_by_role("link", name="Write a dek or an SEO description."))
    expect(page.locator("#id_dek")).to_be_focused()
    page.keyboard.type(DEK)
    expect(checklist(page)).not_to_contain_text("Write a dek")

    counter.clicks += 2  # choose(): open the box, pick the option
    choose(page, "id_section", "Asia-Pacific")
    expect(checklist(page)).not_to_contain_text("Choose a section.")
    # Autosave starts once the draft has a title and a section: no page load.
    expect(page.locator("[data-autosave-status]")).to_contain_text(
        re.compile(r"Saved \d+ s ago"), timeout=20_000
    )
    article = Article.objects.get(title=TITLE)
    assert article.status == Article.Status.DRAFT
    expect(page).to_have_url(re.compile(rf"/admin/articles/article/{article.pk}/change/$"))

    field(page, "Kind").select_option(label="News")
    counter.clicks += 2
    choose(page, "id_lead_image", ALT[:20])
    preview = page.locator("[data-lead-image-preview]")
    expect(preview.locator("img")).to_have_attribute("alt", ALT)
    expect(preview).to_contain_text(CREDIT)

    type_body(page)  # a heading, a link, a list and an inline image from the library
    counter.clicks += 9  # the toolbar buttons and dialog buttons type_body() presses
    # Ctrl-S out of habit: the draft's text is saved where it is, no page load.
    page.keyboard.press("Control+s")
    expect(page.locator("[data-autosave-status]")).to_contain_text(
        re.compile(r"Saved \d+ s ago$"), timeout=10_000
    )
    article.refresh_from_db()
    assert "<h2>Who is at risk</h2>" in article.body
    assert article.lead_image_id == image.pk
    assert counter.loads - loads_at_start == 1

    tags = field(page, "Tags")
    tags.fill("storms, coast")
    tags.press("Tab")
    # Bylines: add two without a reload, then put the second first.
    for index, author in enumerate([okafor, takeda]):
        counter.click(page.locator("#bylines-group .add-row a"))
        counter.clicks += 2
        choose(page, f"id_bylines-{index}-author", author.name)
    counter.click(page.locator("#bylines-group tr.form-row").nth(1).get_by_title("Move up"))
    expect(page.locator("#id_bylines-1-position")).to_have_value("0")
    expect(page.locator("#id_bylines-0-position")).to_have_value("1")
    expect(checklist(page)).to_contain_text("Ready to publish.")
    # The editor as it is now (added byline rows, a filled body) for axe too.
    violations = [v for v in run_axe(page) if v["impact"] in BLOCKING_IMPACTS]
    assert not violations, describe_violations(violations)
    loads_before_scheduling = counter.loads - loads_at_start
    load_events_before_scheduling = counter.load_events

    # Schedule it for tomorrow morning, in the newsroom's zone, and save: a page load.
    when = timezone.localtime(timezone.now() + timedelta(days=1)).replace(
        hour=7, minute=30, second=0, microsecond=0
    )
    field(page, "Status").select_option(label="Scheduled")
    page.locator("#id_publish_at_0").fill(when.strftime("%d/%m/%Y"))
    page.locator("#id_publish_at_1").fill(when.strftime("%H:%M:%S"))
    counter.click(page.get_by_role("button", name="Save and continue editing"))
    expect(page.locator(".messagelist .success")).to_be_visible()
    loads_writing = counter.loads - loads_at_start
    clicks_writing = counter.clicks

    article.refresh_from_db()
    assert article.status == Article.Status.SCHEDULED
    assert article.publish_at == when
    assert [a.name for a in article.ordered_authors] == [takeda.name, okafor.name]
    assert sorted(article.tags.names()) == ["coast", "storms"]
    assert article.lead_image_id == image.pk
    assert "<h2>Who is at risk</h2>" in article.body
    assert 'href="https://coast.example.org/report"' in article.body
    assert f'data-image-id="{image.pk}"' in article.body

    # The front page: make it the lead (it leads from its publish time on).
    page.goto(reverse("admin:articles_frontpagestory_changelist"))
    counter.clicks += 2
    choose(page, "id_form-0-article", TITLE[:20])
    counter.click(page.get_by_role("button", name="Save the front page"))
    expect(page.locator(".messagelist .success")).to_contain_text("front page is updated")
    assert list(FrontPageStory.objects.values_list("article_id", "position")) == [(article.pk, 0)]
    with capsys.disabled():
        print(
            f"\nMeasured journey: {counter.loads} page loads in the editor's tab "
            f"({loads_before_scheduling} from opening the new article until the scheduling "
            f"save, {loads_writing} with that save's own), {counter.clicks} clicks "
            f"({clicks_writing} to write and schedule it); pages: {counter.log}"
        )
    # Playwright's "load" events agree while writing (a page left before it finished
    # loading, as the scheduled article's is when the editor goes on, has none).
    assert load_events_before_scheduling == 1
    # Only the new article's form loads until the save that schedules it.
    assert loads_before_scheduling == 1
    assert loads_writing == 2


def test_ctrl_s_saves_a_drafts_text_in_place_and_the_rest_through_the_admins_save(
    new_page, editor, newsroom
):
    from articles.models import Article

    page = new_page()
    editor.log_in(page)
    counter = Counter(page)
    url = reverse("admin:articles_article_change", args=[newsroom.draft.pk])
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)  # the editor takes its baseline once the page has settled
    # Only the text changed: saved at once, no page load.
    field(page, "Title").fill("A draft saved from the keyboard")
    page.keyboard.press("Control+s")
    expect(page.locator("[data-autosave-status]")).to_contain_text(
        re.compile(r"Saved \d+ s ago"), timeout=5_000
    )
    assert Article.objects.get(pk=newsroom.draft.pk).title == "A draft saved from the keyboard"
    assert counter.loads == 1
    # Tags are not the text: the admin's own save, and the editor stays on the article.
    tags = field(page, "Tags")
    tags.fill("harbours")
    tags.press("Tab")
    page.keyboard.press("Control+s")
    expect(page.locator(".messagelist .success")).to_be_visible(timeout=15_000)
    expect(page).to_have_url(re.compile(re.escape(url) + "$"))
    assert counter.loads == 2
    assert Article.objects.get(pk=newsroom.draft.pk).tags.names()[0] == "harbours"


def test_autosave_of_a_published_article_leaves_its_public_text_alone(new_page, editor, newsroom):
    from articles.models import Article

    article = newsroom.article
    page = new_page()
    editor.log_in(page)
    page.goto(reverse("admin:articles_article_change", args=[article.pk]))
    field(page, "Title").fill("A headline nobody approved")
    expect(page.locator("[data-autosave-status]")).to_contain_text(
        "kept as a revision", timeout=20_000
    )
    assert Article.objects.get(pk=article.pk).title == article.title
    reader = new_page()
    reader.goto(article.get_absolute_url())
    expect(reader.get_by_role("heading", level=1)).to_have_text(article.title)


def test_an_autosave_after_someone_elses_save_names_them(new_page, editor, newsroom):
    from articles.models import Article
    from articles.services import save_article
    from tests.factories import EditorFactory

    draft = newsroom.draft
    with reversion.create_revision():  # as every save in the admin keeps one
        draft.save()
    other = EditorFactory(first_name="Rosa", last_name="Quint")
    page = new_page()
    editor.log_in(page)
    page.goto(reverse("admin:articles_article_change", args=[draft.pk]))
    with reversion.create_revision():
        fresh = Article.objects.get(pk=draft.pk)
        fresh.title = "Rosa's better headline"
        save_article(article=fresh, by=other)
        reversion.set_user(other)
    field(page, "Dek").fill("My dek, typed meanwhile.")
    status = page.locator("[data-autosave-status]")
    expect(status).to_contain_text("Rosa Quint changed the title", timeout=20_000)
    assert Article.objects.get(pk=draft.pk).dek != "My dek, typed meanwhile."


SCREENS = {
    "article editor": lambda newsroom: reverse(
        "admin:articles_article_change", args=[newsroom.article.pk]
    ),
    "new article": lambda newsroom: reverse("admin:articles_article_add"),
    "image form": lambda newsroom: reverse(
        "admin:articles_image_change", args=[newsroom.inline_image.pk]
    ),
    "front page": lambda newsroom: reverse("admin:articles_frontpagestory_changelist"),
    "desk": lambda newsroom: reverse("admin:index"),
}


@pytest.mark.parametrize("screen", list(SCREENS))
def test_editorial_screens_have_no_serious_accessibility_violations(
    screen, new_page, editor, newsroom
):
    from articles.models import FrontPageStory

    FrontPageStory.objects.create(article=newsroom.stories[1], position=0)
    page = new_page()
    editor.log_in(page)
    page.goto(SCREENS[screen](newsroom))
    if "article" in screen:
        page.locator(".ProseMirror[contenteditable=true]").wait_for()
    page.wait_for_timeout(1200)  # the editor names its boxes once they exist
    violations = [v for v in run_axe(page) if v["impact"] in BLOCKING_IMPACTS]
    assert not violations, f"{screen}:\n{describe_violations(violations)}"


def test_the_front_page_screen_orders_stories_by_dragging(new_page, editor, newsroom):
    from articles.models import FrontPageStory

    first, second = newsroom.stories[0], newsroom.stories[1]
    FrontPageStory.objects.create(article=first, position=0)
    FrontPageStory.objects.create(article=second, position=1)
    page = new_page()
    editor.log_in(page)
    page.goto(reverse("admin:articles_frontpagestory_changelist"))
    rows = page.locator("[data-front-page-row]")
    # By the handle, as the screen says (a drag begun on the headline box opens it instead).
    rows.nth(1).locator(".front-page__handle").drag_to(
        rows.nth(0), target_position={"x": 10, "y": 2}
    )
    expect(rows.nth(0).locator("[data-front-page-label]")).to_have_text("Lead")
    expect(rows.nth(0)).to_contain_text(second.title)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".front-page__preview-lead")).to_have_text(second.title)
    page.get_by_role("button", name="Save the front page").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    order = list(FrontPageStory.objects.order_by("position").values_list("article_id", flat=True))
    assert order == [second.pk, first.pk]
    reader = new_page()
    reader.goto("/")
    expect(reader.locator("main article").first).to_contain_text(second.title)


WIDER_THAN_THE_WINDOW = """() => {
  const width = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll("body *"))
    .filter((el) => el.getBoundingClientRect().width > 0 && el.getBoundingClientRect().right > width + 1)
    .slice(0, 5)
    .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`);
}"""


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("screen", ["article editor", "image form", "front page", "desk"])
def test_editorial_screens_fit_the_window_without_sideways_scrolling(
    screen, width, new_page, editor, newsroom
):
    from articles.models import FrontPageStory

    FrontPageStory.objects.create(article=newsroom.stories[1], position=0)
    page = new_page(width=width)
    editor.log_in(page)
    page.goto(SCREENS[screen](newsroom))
    if "article" in screen:
        page.locator(".ProseMirror[contenteditable=true]").wait_for()
    page.wait_for_load_state("load")
    assert page.evaluate(WIDER_THAN_THE_WINDOW) == []
    assert page.evaluate("document.documentElement.scrollWidth") == width
