"""An unchanged save changes nothing, on every admin change form in the project.

The test walks `admin.site._registry`, so an admin added later is covered without
anyone remembering to add it. On content made like a real publication's (the demo
content, plus every relation filled: tags whose names hold commas, spaces and accents,
bylines, corrections, old addresses, round-ups with deliveries), each of the demo roles
opens every change page it may open, submits exactly what the page rendered with the
"Save" button, and the object (every field, many-to-many, tag and related row) must be
as before. Only what is meant to move on a save may move (an auto_now time, the
article's version), and nothing may be added anywhere but the audit trail (admin log,
revisions, sign-in records).
"""

import io
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models
from django.test import override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from taggit.managers import TaggableManager

from articles import services
from articles.models import Article, Author, Note, OldSlug, Section
from newsletter.models import Delivery, Issue, IssueArticle, Subscriber
from tests.factories import ArticleFactory, ImageFactory, RenditionFactory
from tests.rendered_form import as_post_data, rendered_form

pytestmark = pytest.mark.django_db

#: Rows that record who did what; a save is expected to add to them.
AUDIT_TRAIL = {"admin.LogEntry", "reversion.Revision", "reversion.Version", "sessions.Session"}
AUDIT_TRAIL |= {"axes.AccessLog", "axes.AccessAttempt", "axes.AccessFailureLog"}
#: Fields a save is meant to move, besides auto_now times: the article's version, and the
#: stamp of its kept cards (articles/cards.py), renewed by a save of the article or of
#: what its cards show, so a save costs at most one render of its cards.
MOVES_ON_SAVE = {"articles.Article": {"version", "render_stamp"}}

#: Objects of each model opened by each role: enough for every kind the seed makes.
SAMPLE_NEWEST, SAMPLE_OLDEST = 4, 1

#: Tag names that a comma-separated box must quote to keep whole.
AWKWARD_TAGS = ["Gaza, Strip", "São Paulo", "Pacific Islands", "ports", "Côte d'Ivoire"]


@pytest.fixture(autouse=True)
def no_renditions(settings):
    """The seed only queues renditions; a few rendition rows are made by hand below."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.dummy.DummyBackend",
            "QUEUES": ["default", "email"],
        }
    }


def moving_fields(model):
    auto_now = {
        field.name for field in model._meta.concrete_fields if getattr(field, "auto_now", False)
    }
    return auto_now | MOVES_ON_SAVE.get(model._meta.label, set())


def _value(field, obj):
    value = field.value_from_object(obj)
    if isinstance(field, models.FileField):
        return value.name
    return value


def _row(obj):
    model = type(obj)
    skip = moving_fields(model)
    return tuple(
        (field.name, _value(field, obj))
        for field in model._meta.concrete_fields
        if field.name not in skip
    )


def snapshot(obj):
    """The object as the database holds it: fields, many-to-many, tags, related rows."""
    model = type(obj)
    fresh = model._base_manager.get(pk=obj.pk)
    state = dict(_row(fresh))
    for field in model._meta.many_to_many:
        manager = getattr(fresh, field.name)
        if isinstance(field, TaggableManager):
            state[field.name] = sorted(manager.names())
        else:
            state[field.name] = sorted(manager.values_list("pk", flat=True))
    for relation in model._meta.related_objects:
        related = relation.related_model
        if related._meta.label in AUDIT_TRAIL:
            continue
        if relation.many_to_many:
            rows = related._base_manager.filter(**{relation.field.name: fresh.pk})
            state[f"<{relation.name}>"] = sorted(rows.values_list("pk", flat=True))
        elif relation.one_to_many or relation.one_to_one:
            rows = related._base_manager.filter(**{relation.field.name: fresh.pk})
            state[f"<{relation.name}>"] = sorted(_row(row) for row in rows.order_by("pk"))
    return state


def table_sizes():
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.label not in AUDIT_TRAIL and model._meta.managed
    }


def differences(before, after):
    return {
        key: (before.get(key), after.get(key))
        for key in before.keys() | after.keys()
        if before.get(key) != after.get(key)
    }


def form_errors(response):
    """What the admin said was wrong, from the re-rendered change page."""
    context = response.context
    if context is None or "adminform" not in context:
        return f"status {response.status_code}"
    found = {}
    form = context["adminform"].form
    if form.errors:
        found["form"] = form.errors.get_json_data()
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        if formset.non_form_errors():
            found[f"{formset.prefix} (all)"] = list(formset.non_form_errors())
        for number, errors in enumerate(formset.errors):
            if errors:
                found[f"{formset.prefix}-{number}"] = errors.get_json_data()
    return found or "the page came back without naming an error"


# --- Content with every relation filled ------------------------------------------------


def seed_publication():
    """The demo content and the demo accounts, then whatever the demo leaves empty."""
    call_command("seed_demo", stdout=io.StringIO())
    call_command("ensure_demo_editor", stdout=io.StringIO())
    users = {user.username: user for user in get_user_model().objects.all()}
    now = timezone.now()

    credited = ImageFactory(
        alt_text="Rescue workers in a flooded street",
        caption="Rescuers wade through the water on Tuesday.\nA second line of caption.",
        credit="Zoë Ångström/Łódź Press",
        source="via Agência Brasil",
        license="https://creativecommons.org/licenses/by-nd/4.0/",
        copyright_notice="© Agência Brasil",
        usable_until=timezone.localdate() + timedelta(days=365),
        focal_x=0.27,
        focal_y=0.71,
        uploaded_by=users["editor"],
    )
    RenditionFactory(image=credited, width=400, height=250)

    writer_author = Author.objects.order_by("pk").first()
    writer_author.user = users["writer"]
    writer_author.photo = credited
    writer_author.website = "https://example.org/~writer"
    writer_author.x_url = "https://x.com/writer"
    writer_author.bluesky_url = "https://bsky.app/profile/writer.example"
    writer_author.mastodon_url = "https://mastodon.social/@writer"
    writer_author.linkedin_url = "https://www.linkedin.com/in/writer"
    writer_author.save()
    other_author = Author.objects.exclude(pk=writer_author.pk).order_by("pk").first()

    section = Section.objects.order_by("pk").first()
    hidden = Section.objects.create(
        name="Archive — Éditions", slug="archive", is_in_navigation=False, position=40
    )

    figure = (
        f'<figure data-image-id="{credited.pk}"><img src="{credited.file.url}" '
        f'alt="{credited.alt_text}" data-image-id="{credited.pk}">'
        f"<figcaption>{credited.caption}</figcaption></figure>"
    )
    body = (
        "<p>The water rose overnight in São Paulo's eastern districts.</p>"
        "<h2>What the city did</h2>"
        f"{figure}"
        "<ul><li>Schools closed</li><li>Two bridges shut</li></ul>"
        '<p>Read the <a href="https://example.org/report">report</a>.</p>'
    )
    everything = ArticleFactory(
        published=True,
        title="Floods in São Paulo: what “normal” means now",
        slug="floods-in-sao-paulo",
        dek="The city's rains — and the answers — in one place.",
        section=section,
        authors=[writer_author, other_author],
        lead_image=credited,
        lead_image_caption="Rescuers on Tuesday, in the Zona Leste.",
        body=body,
        seo_title="Floods in São Paulo",
        seo_description="What the rains did, and what comes next.",
        publish_at=now - timedelta(days=2, microseconds=123),
    )
    everything.tags.add(*AWKWARD_TAGS)
    services.add_note(
        article=everything, kind=Note.Kind.CORRECTION, text="An earlier version misnamed a bridge."
    )
    services.add_note(article=everything, kind=Note.Kind.UPDATE, text="Schools reopened.")
    OldSlug.objects.create(article=everything, slug="floods-in-the-city")
    from articles.models import FrontPageStory

    FrontPageStory.objects.create(
        article=everything, position=1, expires_at=now + timedelta(days=1, microseconds=7)
    )

    ArticleFactory(
        title="A draft by the writer",
        section=hidden,
        authors=[writer_author],
        body="<p>Work in progress.</p>",
    ).tags.add("Gaza, Strip", "drafts")
    ArticleFactory(
        title="Scheduled for tomorrow",
        section=section,
        authors=[other_author],
        lead_image=credited,
        status=Article.Status.SCHEDULED,
        publish_at=now + timedelta(days=1),
        first_published_at=now + timedelta(days=1),
    )
    went_live = ArticleFactory(
        title="Scheduled an hour ago",
        section=section,
        authors=[other_author],
        lead_image=credited,
        status=Article.Status.SCHEDULED,
        publish_at=now - timedelta(hours=1),
        first_published_at=now - timedelta(hours=1),
    )
    went_live.tags.add("São Paulo")

    for status in Subscriber.Status.values:
        Subscriber.objects.create(
            email=f"Reader.{status}@Example.ORG",
            status=status,
            confirmed_at=now - timedelta(days=3) if status != "pending" else None,
            unsubscribed_at=now - timedelta(days=1) if status == "unsubscribed" else None,
            confirmed_ip="2001:db8::1" if status != "pending" else None,
            consent_source="https://news.example.com/2026/01/02/floods/ — footer form",
        )
    published = list(Article.objects.published().order_by("pk")[:3])
    draft_issue = Issue.objects.create(subject="This week: floods, votes and ports", intro="Hello.")
    sent_issue = Issue.objects.create(
        subject="Last week",
        intro="Three stories.\n\nAnd a fourth.",
        status=Issue.Status.SENT,
        send_started_at=now - timedelta(days=7),
        sent_at=now - timedelta(days=7),
    )
    for issue in (draft_issue, sent_issue):
        for position, article in enumerate(published):
            IssueArticle.objects.create(issue=issue, article=article, position=position)
    for subscriber in Subscriber.objects.all():
        Delivery.objects.create(
            issue=sent_issue,
            subscriber=subscriber,
            status=Delivery.Status.SENT,
            attempts=1,
            sent_at=now - timedelta(days=7),
        )

    from articles.tasks import make_renditions

    with override_settings(TASKS=DATABASE_TASKS):  # a real row for django-tasks-db's admin
        make_renditions.enqueue(credited.pk)

    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from newsletter.models import BounceEvent
    from wordpress.models import ImportedItem, LegacyURL

    bounced = Subscriber.objects.get(status=Subscriber.Status.BOUNCED)
    BounceEvent.objects.create(
        subscriber=bounced,
        delivery=bounced.deliveries.first(),
        kind="hard",
        source="smtp",
        status_code="550",
        diagnostic="5.1.1 <reader.bounced@example.org>: user unknown — ünbekannt",
        reference="<issue-2.delivery-1@news.example.com>",
    )
    item = ImportedItem.objects.create(
        site="https://old.example.com",
        kind="post",
        wp_id="1234",
        guid="https://old.example.com/?p=1234",
        article=everything,
        fingerprint="abc123",
        article_version=everything.version,
    )
    LegacyURL.objects.create(item=item, path="/2019/05/floods-in-sao-paulo/")
    # On an account of their own: a device makes its owner's sign-in ask for it.
    colleague = get_user_model().objects.create_user("colleague", is_staff=True)
    TOTPDevice.objects.create(user=colleague, name="Phone — Zoë's", confirmed=True)
    static = StaticDevice.objects.create(user=colleague, name="Recovery codes")
    static.token_set.create(token="a1b2c3d4")

    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    common = {"user_agent": "Mozilla/5.0", "ip_address": "192.0.2.7", "path_info": "/admin/"}
    AccessAttempt.objects.create(
        **common, username="someone", http_accept="*/*", get_data="", post_data="username=x",
        failures_since_start=2,
    )  # fmt: skip
    AccessLog.objects.create(**common, username="editor", http_accept="*/*", session_hash="x")
    AccessFailureLog.objects.create(
        **common, username="someone", http_accept="*/*", locked_out=False
    )
    return users


DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


# --- The walk ----------------------------------------------------------------------------


#: How Django writes a model instance in Python: "<Tag: ports>".
PYTHON_REPR = re.compile(r"<[A-Z][A-Za-z]*: [^>]*>")


def registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def sample(model):
    """The newest objects (the seed makes the fullest ones last) and the oldest."""
    rows = model._base_manager.order_by("pk")
    newest = list(rows.reverse()[:SAMPLE_NEWEST])
    oldest = [obj for obj in rows[:SAMPLE_OLDEST] if obj not in newest]
    return [*newest, *oldest]


def round_trip(client, obj):
    """Open the change page, press Save on what it shows; return the problems found."""
    opts = obj._meta
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return []  # an admin with no change form (a board or list only): nothing to save
    page = client.get(url)
    if page.status_code in (302, 403):
        return None  # this role may not open it: other tests say what they are told
    if page.status_code != 200:
        return [f"GET {url} answered {page.status_code}"]
    html = page.content.decode()
    if 'name="_save"' not in html:
        return []  # a page to read, not to change
    fields = rendered_form(html, form_id=f"{opts.model_name}_form")
    problems = [
        f"the page shows a Python repr in {name}: {value!r}"
        for name, value in fields
        if PYTHON_REPR.search(value)
    ]
    before, sizes = snapshot(obj), table_sizes()
    response = client.post(url, as_post_data(fields, button="_save"))
    if response.status_code != 302:
        return [*problems, f"the unchanged form was refused: {form_errors(response)}"]
    changed = differences(before, snapshot(obj))
    if changed:
        problems.append(f"an unchanged save changed {changed}")
    grown = differences(sizes, table_sizes())
    if grown:
        problems.append(f"an unchanged save added or removed rows: {grown}")
    return problems


def test_an_unchanged_save_changes_nothing_on_every_admin_change_form(client):
    users = seed_publication()
    missing = [model._meta.label for model, _ in registered() if not model._base_manager.exists()]
    assert not missing, f"the seed leaves these admins without an object: {missing}"

    found = {}
    saved = {}
    for username in ("admin", "editor", "writer"):
        client.force_login(users[username])
        for model, _model_admin in registered():
            for obj in sample(model):
                problems = round_trip(client, obj)
                if problems is None:
                    continue
                saved.setdefault(username, set()).add(model._meta.label)
                if problems:
                    found[f"{username} on {model._meta.label} {obj.pk} ({obj})"] = problems
        client.logout()

    assert not found, "\n".join(f"{where}: {what}" for where, what in found.items())
    # The walk reached what each role works on.
    assert {"articles.Article", "articles.Image", "taggit.Tag", "newsletter.Issue"} <= saved[
        "admin"
    ]
    assert "articles.Article" in saved["editor"]
    assert "articles.Article" in saved["writer"]
