"""axe-core in Chromium on every kind of public page: no serious or critical violation.

The admin's article form is checked too; its findings come from Django's admin and the
rich-text editor, so they are held to a known list (ADMIN_KNOWN) rather than to zero:
anything new fails.
"""

import pytest
from django.urls import reverse

from tests.e2e.support import BLOCKING_IMPACTS, describe_violations, run_axe

pytestmark = pytest.mark.e2e

# Rule id -> where it comes from. These are findings in Django's admin and in
# django-prose-editor, not in our templates; they are listed in the note. Any
# other finding on the article form fails the test.
# (The select2 comboboxes, the body's textbox and the byline inputs are named now:
# static/js/admin/autocomplete-names.js and article-editor.js.)
ADMIN_KNOWN = {
    # TabularInline's first header cell ("original", over the rows' hidden ids) is empty:
    # a minor, best-practice finding.
    "empty-table-header": "TabularInline's empty first header cell",
}


def public_pages(newsroom):
    from newsletter.models import Subscriber
    from newsletter.tokens import make_confirm_token, make_unsubscribe_token

    article = newsroom.article
    pending = Subscriber.objects.create(email="pending@example.com")
    active = Subscriber.objects.create(email="active@example.com", status="active")
    return {
        "home": "/",
        "article": article.get_absolute_url(),
        "section": article.section.get_absolute_url(),
        "author": newsroom.authors[0].get_absolute_url(),
        "tag": reverse("articles:tag-detail", kwargs={"slug": "weather"}),
        "search": f"/search/?q={newsroom.search_word}",
        "search-no-results": "/search/?q=zzzxqy",
        "newsletter": reverse("newsletter:signup"),
        "newsletter-confirm": reverse(
            "newsletter:confirm", kwargs={"token": make_confirm_token(pending)}
        ),
        "newsletter-unsubscribe": reverse(
            "newsletter:unsubscribe", kwargs={"token": make_unsubscribe_token(active)}
        ),
        "not-found": "/no-such-page/",
    }


PAGE_NAMES = [
    "home",
    "article",
    "section",
    "author",
    "tag",
    "search",
    "search-no-results",
    "newsletter",
    "newsletter-confirm",
    "newsletter-unsubscribe",
    "not-found",
]


def blocking(violations):
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_public_page_has_no_serious_accessibility_violations(name, new_page, newsroom):
    page = new_page()
    page.goto(public_pages(newsroom)[name])
    violations = blocking(run_axe(page))
    assert not violations, f"{name}:\n{describe_violations(violations)}"


@pytest.mark.parametrize("name", ["home", "article", "newsletter"])
def test_public_page_is_accessible_on_a_phone_in_dark_mode(name, new_page, newsroom):
    page = new_page(width=390, height=844)
    page.emulate_media(color_scheme="dark")
    page.goto(public_pages(newsroom)[name])
    violations = blocking(run_axe(page))
    assert not violations, f"{name} (390px, dark):\n{describe_violations(violations)}"


def test_newsletter_pages_after_pressing_their_buttons_are_accessible(new_page, newsroom):
    page = new_page()
    pages = public_pages(newsroom)
    for name in ("newsletter-confirm", "newsletter-unsubscribe"):
        page.goto(pages[name])
        page.get_by_role("main").locator("form [type=submit]").first.click()
        page.wait_for_load_state()
        violations = blocking(run_axe(page))
        assert not violations, f"{name} after submitting:\n{describe_violations(violations)}"


@pytest.mark.parametrize("form", ["add", "change"])
def test_admin_article_form_has_only_known_accessibility_findings(form, new_page, newsroom, editor):
    page = new_page()
    editor.log_in(page)
    if form == "add":
        page.goto(reverse("admin:articles_article_add"))
    else:
        page.goto(reverse("admin:articles_article_change", args=[newsroom.article.pk]))
    page.locator(".ProseMirror[contenteditable=true]").wait_for()
    violations = run_axe(page)
    print(f"\naxe on the admin article {form} form:\n{describe_violations(violations) or 'none'}")
    new = [v for v in violations if v["id"] not in ADMIN_KNOWN]
    assert not new, describe_violations(new)
