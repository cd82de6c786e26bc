"""The editor's journey in the admin, in Chromium: upload a picture, write an article in the
rich-text editor, preview, publish; then read it as the public does. And the contributor's:
submit for review, never publish."""

import io
import re

import pytest
from django.urls import reverse
from PIL import Image as PILImage
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

TITLE = "Harbour towns brace for a record tide"
DEK = "Sea walls built a century ago face their hardest test this weekend."
ALT = "Waves break over a stone sea wall beside a lighthouse"
CAPTION = "The sea wall at Port Ellis on Thursday evening."
CREDIT = "Ana Ruiz/Coastal Images"


def photo_bytes():
    """A real JPEG, big enough for renditions, with some detail in it."""
    picture = PILImage.linear_gradient("L").resize((1200, 800)).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def field(page, label):
    """The form field labelled exactly `label` (the admin adds a colon)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def choose(page, field_id, text):
    """Pick `text` in one of the admin's autocomplete (select2) fields."""
    page.locator(f"#{field_id} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()
    expect(page.locator(f"#{field_id} + .select2 .select2-selection")).to_contain_text(text)


def add_byline(page, index, name):
    """Fill byline row `index` (adding the row first when the inline has none spare)."""
    if not page.locator(f"#id_bylines-{index}-author").count():
        page.locator("#bylines-group .add-row a").click()
    choose(page, f"id_bylines-{index}-author", name)
    page.locator(f"#id_bylines-{index}-position").fill(str(index))


def upload_image(page):
    page.goto(reverse("admin:articles_image_add"))
    page.locator("input[type=file][name=file]").set_input_files(
        files=[{"name": "sea-wall.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}]
    )
    field(page, "Alt text").fill(ALT)
    field(page, "Caption").fill(CAPTION)
    field(page, "Credit").fill(CREDIT)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_be_visible()


def type_body(page):
    """Write the body as an editor does: typing, with the editor's toolbar buttons.

    Each step waits to see its result in the editor before the next keystroke, since the
    editor takes the focus back from its menus and dialogs asynchronously.
    """
    body = page.locator(".field-body .ProseMirror[contenteditable=true]")
    keyboard = page.keyboard
    body.click()
    keyboard.type("The tide tables promise the highest water in a hundred years.")
    keyboard.press("Enter")
    menubar = page.locator(".field-body .prose-menubar")
    menubar.locator(".prose-menubar__selected").click()  # the block-type menu
    menubar.get_by_role("button", name="Heading 2").click()
    keyboard.type("Who is at risk")
    expect(body.locator("h2")).to_have_text("Who is at risk")
    keyboard.press("Enter")
    keyboard.type("Read the coastal agency report for the full list.")
    paragraph = body.locator("p", has_text="for the full list.")
    expect(paragraph).to_be_visible()

    # Select "coastal agency report" and make it a link.
    keyboard.press("End")
    for _ in range(len(" for the full list.")):
        keyboard.press("ArrowLeft")
    for _ in range(len("coastal agency report")):
        keyboard.press("Shift+ArrowLeft")
    expect(menubar.get_by_title("insert link", exact=True)).not_to_have_class(
        re.compile("disabled")
    )
    menubar.get_by_title("insert link", exact=True).click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("URL").fill("https://coast.example.org/report")
    dialog.get_by_role("button", name="Update").click()
    expect(dialog).to_have_count(0)
    expect(paragraph.get_by_role("link", name="coastal agency report")).to_have_attribute(
        "href", "https://coast.example.org/report"
    )

    # Put the caret at the very end of the document through the editor itself (TipTap
    # hangs its editor on the ProseMirror element): a click could land on the new link,
    # and a DOM selection set by script reaches ProseMirror late on a loaded machine, so
    # the keys landed where the caret had been.
    body.evaluate("el => el.editor.commands.focus('end')")
    page.wait_for_function(
        """el => {
            const {selection, doc} = el.editor.state;
            return el.editor.isFocused && selection.empty && selection.to === doc.content.size - 1;
        }""",
        arg=body.element_handle(),
    )
    keyboard.press("Enter")
    menubar.get_by_title("unordered list", exact=True).click()
    keyboard.type("Port Ellis")
    keyboard.press("Enter")
    keyboard.type("Saltmarsh Bay")
    expect(body.locator("ul > li")).to_have_count(2)
    keyboard.press("Enter")
    keyboard.press("Enter")  # an empty item ends the list
    keyboard.type("Crews will close the flood gates at noon.")
    expect(body.locator(":scope > p", has_text="flood gates")).to_be_visible()
    keyboard.press("Enter")
    insert_library_image(page)


def insert_library_image(page):
    """The figure button's dialog, "Browse..." → the image library picker → Insert."""
    page.get_by_title("figure", exact=True).click()
    dialog = page.locator("dialog[open]")
    with page.expect_popup() as popup_info:
        dialog.get_by_role("button", name="Browse...").click()
    picker = popup_info.value
    picker.wait_for_load_state("domcontentloaded")  # the picker listens for clicks from then on
    choice = picker.get_by_role("button", name=re.compile(re.escape(ALT)))
    with picker.expect_event("close"):  # the picker hands the image over and closes
        choice.click()
    expect(dialog.get_by_label("Alternative Text")).to_have_value(ALT)
    dialog.get_by_role("button", name="Insert").click()
    expect(
        page.locator(".field-body .ProseMirror[contenteditable=true] figure img")
    ).to_be_visible()


def test_editor_writes_previews_and_publishes_an_article_that_readers_then_see(
    new_page, editor, newsroom
):
    from articles.models import Article, Image

    takeda, okafor, _ = newsroom.authors
    page = new_page()
    editor.log_in(page)
    upload_image(page)
    image = Image.objects.get(alt_text=ALT)
    assert image.credit == CREDIT

    page.goto(reverse("admin:articles_article_add"))
    field(page, "Title").fill(TITLE)
    field(page, "Dek").fill(DEK)
    field(page, "Kind").select_option(label="Analysis")
    choose(page, "id_section", "Asia-Pacific")
    tags = field(page, "Tags")
    tags.fill("coast, weather")
    tags.press("Tab")
    choose(page, "id_lead_image", ALT[:20])
    add_byline(page, 0, takeda.name)
    add_byline(page, 1, okafor.name)
    type_body(page)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()

    article = Article.objects.get(title=TITLE)
    assert article.status == Article.Status.DRAFT
    assert [a.name for a in article.ordered_authors] == [takeda.name, okafor.name]
    assert sorted(article.tags.names()) == ["coast", "weather"]
    assert "<h2>Who is at risk</h2>" in article.body
    assert 'href="https://coast.example.org/report"' in article.body
    assert f'data-image-id="{image.pk}"' in article.body

    preview_url = reverse("articles:article-preview", kwargs={"pk": article.pk})
    preview = follow(page, page.get_by_role("link", name=re.compile("preview", re.I)).first)
    expect(preview).to_have_url(re.compile(re.escape(preview_url) + "$"))
    expect(preview.get_by_text(re.compile("not published", re.I)).first).to_be_visible()
    expect(preview.get_by_role("heading", level=1)).to_have_text(TITLE)
    anonymous = new_page()
    assert anonymous.goto(preview_url).status == 404
    assert anonymous.goto("/").ok
    expect(anonymous.get_by_role("link", name=TITLE)).to_have_count(0)

    publish_from_the_list(page, article)
    article.refresh_from_db()
    assert article.is_public

    anonymous.goto("/")
    first = anonymous.locator("main article").first
    expect(first.get_by_role("link", name=TITLE, exact=True)).to_be_visible()
    first.get_by_role("link", name=TITLE, exact=True).click()
    expect(anonymous).to_have_url(re.compile(re.escape(article.get_absolute_url()) + "$"))
    main = anonymous.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(main.get_by_text(DEK).first).to_be_visible()
    expect(main.get_by_role("link", name=takeda.name).first).to_be_visible()
    expect(main.get_by_role("link", name=okafor.name).first).to_be_visible()
    expect(main.get_by_text(CREDIT).first).to_be_visible()
    expect(main.get_by_role("heading", level=2, name="Who is at risk")).to_be_visible()
    link = main.get_by_role("link", name="coastal agency report")
    expect(link).to_have_attribute("href", "https://coast.example.org/report")
    expect(main.get_by_role("listitem").filter(has_text="Saltmarsh Bay")).to_be_visible()
    expect(main.get_by_role("img", name=ALT).first).to_be_visible()
    expect(main.get_by_text("Crews will close the flood gates at noon.")).to_be_visible()


def follow(page, link):
    """Click a link and return the page it opened in (a new tab when it says so)."""
    if link.get_attribute("target") == "_blank":
        with page.context.expect_page() as opened:
            link.click()
        return opened.value
    link.click()
    return page


def publish_from_the_list(page, article):
    """The change list's "Publish now…" action, then its confirmation step."""
    page.goto(reverse("admin:articles_article_changelist"))
    page.locator(f"input[name=_selected_action][value='{article.pk}']").check()
    page.locator("select[name=action]").select_option(label="Publish now…")
    page.get_by_role("button", name="Run").or_(page.get_by_role("button", name="Go")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("publish", re.I))
    page.get_by_role("button", name=re.compile("publish", re.I)).click()
    expect(page.locator(".messagelist .success")).to_contain_text("Published 1 article")


def test_contributor_submits_for_review_and_is_offered_no_way_to_publish(
    new_page, contributor, newsroom
):
    from articles.models import Article

    page = new_page()
    contributor.log_in(page)
    page.goto(reverse("admin:articles_article_add"))
    field(page, "Title").fill("Notes from the harbour wall")
    field(page, "Dek").fill("A contributor's first draft.")
    choose(page, "id_section", "Europe")
    add_byline(page, 0, newsroom.authors[2].name)
    page.locator(".field-body .ProseMirror[contenteditable=true]").click()
    page.keyboard.type("The wall held, this time.")
    status = field(page, "Status")
    options = status.locator("option").all_inner_texts()
    assert "Published" not in options and "Scheduled" not in options, options
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    article = Article.objects.get(title="Notes from the harbour wall")

    page.goto(reverse("admin:articles_article_changelist"))
    actions = page.locator("select[name=action] option").all_inner_texts()
    assert not [a for a in actions if re.search("publish|schedule", a, re.I)], actions
    page.locator(f"input[name=_selected_action][value='{article.pk}']").check()
    page.locator("select[name=action]").select_option(label="Submit for review")
    page.get_by_role("button", name="Run").or_(page.get_by_role("button", name="Go")).click()
    expect(page.locator(".messagelist .success")).to_contain_text("Submitted 1 article")
    article.refresh_from_db()
    assert article.status == Article.Status.REVIEW

    page.goto(reverse("admin:articles_article_change", args=[article.pk]))
    expect(page.get_by_role("button", name=re.compile("^publish", re.I))).to_have_count(0)
