"""Editorial writes that take several steps: the workflow, slugs, notes, tags.

Every path that publishes (the admin form, the admin actions, a shell) goes through
`check_publishable`, so the pre-publish checklist cannot be skipped. Page-cache
invalidation is not done here: articles/signals.py owns it.
"""

import uuid
from dataclasses import dataclass

import reversion
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.formats import date_format
from taggit.models import Tag, TaggedItem

from articles.models import Article, FrontPageStory, Note, OldSlug

PUBLISH_PERMISSION = "articles.publish_article"


class PublishingError(ValidationError):
    """The article fails the pre-publish checklist; `messages` lists what to fix."""


class EditConflict(ValidationError):
    """Someone saved the article after the editor opened it."""


def can_publish(user):
    return user.is_active and user.has_perm(PUBLISH_PERMISSION)


def can_edit(user, article):
    """Editors edit anything; a contributor edits their own drafts only."""
    if not user.has_perm("articles.change_article"):
        return False
    if can_publish(user):
        return True
    if article.pk is None:
        return True
    return (
        article.status == Article.Status.DRAFT
        and Article.objects.owned_by(user).filter(pk=article.pk).exists()
    )


def why_not_editable(user, article):
    """What to tell someone who opens an article they may not change; None if they may."""
    if can_edit(user, article):
        return None
    status = article.effective_status
    if status == Article.Status.PUBLISHED:
        return f"“{article}” is published: only an editor can change it now. Ask an editor."
    if status == Article.Status.SCHEDULED:
        return f"“{article}” is scheduled: only an editor can change it now. Ask an editor."
    if status == Article.Status.REVIEW:
        return (
            f"“{article}” is in review: an editor can change it now, or send it back to "
            "you as a draft."
        )
    return f"“{article}” is another writer's draft: only they or an editor can change it."


def _require_publisher(user):
    if not can_publish(user):
        raise PermissionDenied("Only editors may publish, schedule or unpublish articles.")


def check_publishable(article, *, has_authors=None):
    problems = article.publish_problems(has_authors=has_authors)
    if problems:
        raise PublishingError(problems, code="checklist")


def _locked(article):
    return (
        Article.objects.select_for_update(of=("self",))
        .select_related("lead_image")
        .get(pk=article.pk)
    )


def _save(article, *, by, comment):
    with reversion.create_revision():
        article.save()
        reversion.set_user(by)
        reversion.set_comment(comment)
    return article


def apply_publication_dates(article, *, now=None):
    """Fill the dates a public status needs; called by every path that publishes."""
    now = now or timezone.now()
    if article.status == Article.Status.PUBLISHED and article.publish_at is None:
        article.publish_at = now
    if article.is_public_status and article.first_published_at is None:
        article.first_published_at = article.publish_at
    return article


@transaction.atomic
def publish_article(*, article, by):
    """Make the article public now (an article unpublished earlier keeps its date)."""
    _require_publisher(by)
    article = _locked(article)
    check_publishable(article)
    now = timezone.now()
    if article.status == Article.Status.PUBLISHED and article.is_public:
        return article
    if not (article.was_published and article.publish_at and article.publish_at <= now):
        article.publish_at = now
    article.status = Article.Status.PUBLISHED
    apply_publication_dates(article, now=now)
    return _save(article, by=by, comment="Published.")


@transaction.atomic
def schedule_article(*, article, at, by):
    """Make the article public at `at`, a time in the future; no job is needed."""
    _require_publisher(by)
    if at is None or at <= timezone.now():
        raise ValidationError("Choose a publish time in the future.", code="past")
    article = _locked(article)
    check_publishable(article)
    article.status = Article.Status.SCHEDULED
    article.publish_at = at
    if article.first_published_at is None or article.first_published_at > timezone.now():
        article.first_published_at = at
    local = timezone.localtime(at)
    return _save(article, by=by, comment=f"Scheduled for {date_format(local, 'DATETIME_FORMAT')}.")


@transaction.atomic
def unpublish_article(*, article, by):
    """Take the article off the site; it goes back to draft."""
    _require_publisher(by)
    article = _locked(article)
    if not article.is_public_status:
        return article
    article.status = Article.Status.DRAFT
    if article.first_published_at and article.first_published_at > timezone.now():
        article.first_published_at = None  # it was only scheduled, never seen
    return _save(article, by=by, comment="Unpublished.")


@transaction.atomic
def submit_for_review(*, article, by):
    """A draft goes to the editors; its author can no longer change it."""
    article = _locked(article)
    if not can_edit(by, article):
        raise PermissionDenied("You may only submit your own drafts.")
    if article.status != Article.Status.DRAFT:
        raise ValidationError("Only a draft can be submitted for review.", code="status")
    article.status = Article.Status.REVIEW
    return _save(article, by=by, comment="Submitted for review.")


def lock_for_edit(*, pk, expected_version):
    """Lock the article row and make sure nobody saved it since it was opened.

    Must run inside the transaction that saves (the admin's change view is one), so a
    second editor waits for the first and then finds the version moved on.
    """
    current = Article.objects.select_for_update().filter(pk=pk).values_list("version", flat=True)
    current = current.first()
    if current is not None and current != expected_version:
        raise EditConflict(conflict_message(pk, since_version=expected_version), code="conflict")
    return current


CONFLICT_FIELDS = [
    ("title", "the title"), ("dek", "the dek"), ("body", "the body"), ("status", "the status"),
    ("publish_at", "the publish time"), ("section", "the section"), ("kind", "the kind"),
    ("lead_image", "the lead image"), ("lead_image_caption", "the lead image caption"),
    ("seo_title", "the SEO title"), ("seo_description", "the SEO description"),
    ("slug", "the slug"),
]  # fmt: skip


def conflict_message(pk, *, since_version=None):
    """Who changed the article, when, and (when the history shows it) what."""
    from reversion.models import Version

    versions = list(
        Version.objects.get_for_object_reference(Article, pk).select_related("revision__user")[:50]
    )
    version = versions[0] if versions else None
    who = "Someone else"
    when = what = ""
    if version is not None:
        revision = version.revision
        if revision.user:
            who = revision.user.get_full_name() or revision.user.get_username()
        when = f" at {date_format(timezone.localtime(revision.date_created), 'DATETIME_FORMAT')}"
        what = _changed_since(pk, versions, since_version)
    return (
        f"{who} changed {what or 'this article'}{when}, after you opened it. Your changes were "
        "not saved: open the article again (in a new tab, to keep your text) and redo them."
    )


def _changed_since(pk, versions, since_version):
    """ "the title and the body": what differs between the version the editor opened
    (when a revision recorded it) and the article now; "" when that cannot be told."""
    if since_version is None:
        return ""
    base = None
    for version in versions:
        try:
            fields = version.field_dict
        except Exception:  # a revision from an older schema
            continue
        if fields.get("version") == since_version:
            base = fields
            break
    current = Article.objects.filter(pk=pk).first()
    if base is None or current is None:
        return ""
    changed = [
        label
        for name, label in CONFLICT_FIELDS
        if base.get(Article._meta.get_field(name).attname, base.get(name))
        != getattr(current, Article._meta.get_field(name).attname)
    ]
    if not changed:
        return ""
    return changed[0] if len(changed) == 1 else f"{', '.join(changed[:-1])} and {changed[-1]}"


def save_article(*, article, by, old_slug=None):
    """Save an article edited in the admin, keeping its old address working."""
    if article.created_by_id is None and article.pk is None:
        article.created_by = by
    apply_publication_dates(article)
    article.save()
    if old_slug and old_slug != article.slug and article.was_published:
        OldSlug.objects.get_or_create(slug=old_slug, defaults={"article": article})
    OldSlug.objects.filter(article=article, slug=article.slug).delete()
    return article


@transaction.atomic
def record_notes(*, article, notes):
    """New correction or update notes move the article's "updated" time."""
    latest = max((note.created_at for note in notes), default=None)
    if latest is None:
        return article
    Article.objects.filter(pk=article.pk, updated_at__isnull=True).update(updated_at=latest)
    # The cards' datelines show the update: a new card stamp (articles/cards.py).
    Article.objects.filter(pk=article.pk).update(
        updated_at=Greatest(F("updated_at"), latest), render_stamp=uuid.uuid4()
    )
    article.refresh_from_db(fields=["updated_at", "render_stamp"])
    return article


@transaction.atomic
def add_note(*, article, kind, text, at=None):
    """A dated correction or update on a published article."""
    if not article.was_published:
        raise ValidationError("Notes are for published articles.", code="unpublished")
    note = Note.objects.create(
        article=article, kind=kind, text=text, created_at=at or timezone.now()
    )
    record_notes(article=article, notes=[note])
    return note


@transaction.atomic
def merge_tags(*, tags, into):
    """Move every use of `tags` to the tag `into` and delete them."""
    others = [tag for tag in tags if tag.pk != into.pk]
    if not others:
        return 0
    items = TaggedItem.objects.filter(tag__in=others)
    already = set(TaggedItem.objects.filter(tag=into).values_list("content_type_id", "object_id"))
    moved = 0
    for item in items.select_for_update():
        key = (item.content_type_id, item.object_id)
        if key in already:
            item.delete()
        else:
            item.tag = into
            item.save(update_fields=["tag"])
            already.add(key)
            moved += 1
    Tag.objects.filter(pk__in=[tag.pk for tag in others]).delete()
    return moved


@transaction.atomic
def arrange_front_page(*, entries, by):
    """Make the front page exactly `entries`, a list of (article, expires_at): the first
    is the lead. Stories not listed leave it; the page cache follows on commit."""
    _require_publisher(by)
    keep = [article.pk for article, _ in entries]
    FrontPageStory.objects.exclude(article_id__in=keep).delete()
    for position, (article, expires_at) in enumerate(entries):
        FrontPageStory.objects.update_or_create(
            article=article, defaults={"position": position, "expires_at": expires_at}
        )


@transaction.atomic
def put_on_front_page(*, article, by, as_lead=True):
    """Place `article` on the front page, as the lead (first) or after the others."""
    _require_publisher(by)
    stories = list(FrontPageStory.objects.select_related("article").exclude(article=article))
    entries = [(story.article, story.expires_at) for story in stories]
    entry = (article, None)
    entries = [entry, *entries] if as_lead else [*entries, entry]
    arrange_front_page(entries=entries[: 1 + settings.FRONT_PAGE_FEATURED], by=by)


# Autosave: what the editor types is kept every few seconds, and never reaches readers.

AUTOSAVE_FIELDS = [
    "title", "dek", "body", "kind", "section", "lead_image", "lead_image_caption",
    "seo_title", "seo_description",
]  # fmt: skip
AUTOSAVE_COMMENT = "Autosaved (not published)."
AUTOSAVE_REVISION_SECONDS = 5 * 60


@dataclass
class Autosave:
    article: Article
    #: False when the article is public: the text was kept as a revision only.
    on_article: bool


@transaction.atomic
def autosave_draft(*, article, values, expected_version, by, now=None):
    """Keep an editor's unsaved text without publishing anything or changing what readers see.

    A new article is created as a draft. A draft or an article in review has its row
    updated in place by a query (no save signals: nothing readers see changes, so no
    cached page is purged). A published or scheduled article is never changed: the
    text is kept only as a revision, which *History* can restore. Either way at most one
    autosave revision per editor is kept per AUTOSAVE_REVISION_SECONDS, and the
    optimistic lock holds: a conflicting autosave raises EditConflict naming who
    changed what.
    """
    now = now or timezone.now()
    values = {name: value for name, value in values.items() if name in AUTOSAVE_FIELDS}
    if article.pk is None:
        article = Article(**values, status=Article.Status.DRAFT, created_by=by)
        save_article(article=article, by=by)
        _keep_autosave_revision(article, by=by, now=now)
        return Autosave(article=article, on_article=True)
    if not can_edit(by, article):
        raise PermissionDenied("You may not change this article.")
    locked = Article.objects.select_for_update(of=("self",)).get(pk=article.pk)
    if expected_version is None or locked.version != expected_version:
        raise EditConflict(conflict_message(locked.pk, since_version=expected_version))
    for name, value in values.items():
        setattr(locked, name, value)
    if locked.is_public_status:
        _keep_autosave_revision(locked, by=by, now=now)
        return Autosave(article=locked, on_article=False)
    locked.body = Article._meta.get_field("body").pre_save(locked, False)  # sanitised
    columns = {Article._meta.get_field(name).attname for name in values}
    locked.version += 1
    locked.modified_at = now
    Article.objects.filter(pk=locked.pk).update(
        **{column: getattr(locked, column) for column in columns},
        version=locked.version,
        modified_at=now,
        render_stamp=uuid.uuid4(),
    )
    _keep_autosave_revision(locked, by=by, now=now)
    return Autosave(article=locked, on_article=True)


def _keep_autosave_revision(article, *, by, now):
    """One revision per editor and window: a newer autosave rewrites the window's one."""
    from django.core import serializers
    from reversion.models import Version

    latest = (
        Version.objects.get_for_object_reference(Article, article.pk)
        .select_related("revision")
        .first()
    )
    if (
        latest is not None
        and latest.revision.comment == AUTOSAVE_COMMENT
        and latest.revision.user_id == by.pk
        and (now - latest.revision.date_created).total_seconds() < AUTOSAVE_REVISION_SECONDS
    ):
        latest.serialized_data = serializers.serialize(latest.format, [article])
        latest.object_repr = str(article)[:191]
        latest.save(update_fields=["serialized_data", "object_repr"])
        return
    with reversion.create_revision():
        reversion.add_to_revision(article)
        reversion.set_user(by)
        reversion.set_comment(AUTOSAVE_COMMENT)
