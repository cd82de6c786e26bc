"""An article's history: a readable list of saves, the diff of one save, and restore.

django-reversion keeps the versions; this adds the diff and keeps its views to the
article admin's visibility rules.
"""

import difflib
import html
import re

from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import Truncator
from reversion.models import Version
from taggit.models import Tag, TaggedItem

from articles import services
from articles.models import Article

WORD_OR_BREAK = re.compile(r"\n|[^\s]+")
BLOCK_END = re.compile(r"</(p|h2|h3|li|blockquote|figcaption)>|<br>", re.IGNORECASE)
TAG = re.compile(r"<[^>]+>")


def readable_text(body):
    """The body as an editor reads it: one line per paragraph, no markup."""
    text = TAG.sub("", BLOCK_END.sub("\n", body or ""))
    return "\n".join(line.strip() for line in html.unescape(text).splitlines() if line.strip())


def word_diff(old, new):
    """[(op, text)] with op in equal/delete/insert, word by word, keeping line breaks."""
    a, b = WORD_OR_BREAK.findall(old or ""), WORD_OR_BREAK.findall(new or "")
    pieces = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            pieces.append(("delete", " ".join(a[i1:i2])))
        if op in ("insert", "replace"):
            pieces.append(("insert", " ".join(b[j1:j2])))
        if op == "equal":
            pieces.append(("equal", " ".join(a[i1:i2])))
    return [(op, text.replace(" \n ", "\n").strip(" ")) for op, text in pieces]


DIFF_FIELDS = [("title", "Title"), ("dek", "Dek"), ("body", "Body")]
OTHER_FIELDS = [
    ("slug", "slug"), ("status", "status"), ("publish_at", "publish time"),
    ("section_id", "section"), ("kind", "kind"), ("lead_image_id", "lead image"),
    ("lead_image_caption", "lead image caption"), ("seo_title", "SEO title"),
    ("seo_description", "SEO description"), ("updated_at", "updated time"),
]  # fmt: skip


def _fields(version):
    try:
        return version.field_dict
    except Exception:  # a revision from an older schema: show it without a diff
        return {}


def revision_tag_ids(revision, article_id):
    """The ids of the tags an article had in a revision, or None if none were kept.

    Revisions saved before tags were kept hold no tag rows at all; so does a revision
    of an article without tags: both answer None.
    """
    versions = revision.version_set.get_for_model(TaggedItem)
    ids = [
        fields["tag_id"]
        for fields in map(_fields, versions)
        if str(fields.get("object_id")) == str(article_id) and "tag_id" in fields
    ]
    return ids or None


def tag_names(ids):
    """Names of tags by id, in taggit's order; a tag deleted since is said to be."""
    found = Tag.objects.in_bulk(ids or [])
    return sorted(found[pk].name if pk in found else f"(deleted tag #{pk})" for pk in ids or [])


class ArticleHistoryMixin:
    """For the article admin, before reversion's VersionAdmin."""

    def _hidden_from(self, request, object_id):
        """The "does not exist" answer when get_queryset hides the article from this user.

        reversion's own views read versions without asking get_queryset, and name the
        article in their messages: a contributor must not learn others' drafts from them.
        """
        if self.get_object(request, unquote(object_id)) is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return None

    def recoverlist_view(self, request, extra_context=None):
        # Deleted articles have no owner left to check against: editors recover them.
        if not services.can_publish(request.user):
            raise PermissionDenied
        return super().recoverlist_view(request, extra_context)

    def recover_view(self, request, version_id, extra_context=None):
        if not services.can_publish(request.user):
            raise PermissionDenied
        return super().recover_view(request, version_id, extra_context)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        if (hidden := self._hidden_from(request, object_id)) is not None:
            return hidden
        request._article_current_version = (
            Article.objects.filter(pk=object_id).values_list("version", flat=True).first()
        )
        version = Version.objects.filter(pk=version_id).select_related("revision").first()
        if version is not None and revision_tag_ids(version.revision, object_id) is None:
            # Restoring deletes the tag rows the revision does not hold: a revision
            # that kept no tags (older than this rule, or of an untagged article)
            # offers the article's current tags instead of none.
            request._article_revision_tags = list(
                Tag.objects.filter(
                    taggit_taggeditem_items__object_id=object_id,
                    taggit_taggeditem_items__content_type__model="article",
                    taggit_taggeditem_items__content_type__app_label="articles",
                )
            )
        return super().revision_view(request, object_id, version_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        if (hidden := self._hidden_from(request, object_id)) is not None:
            return hidden
        versions = list(self._versions(object_id))
        rows = []
        for newer, older in zip(versions, [*versions[1:], None][: len(versions)], strict=True):
            new_fields, old_fields = _fields(newer), _fields(older) if older else {}
            changed = [
                label
                for name, label in [*DIFF_FIELDS, *OTHER_FIELDS]
                if older is None or new_fields.get(name) != old_fields.get(name)
            ]
            if older is not None and sorted(
                revision_tag_ids(newer.revision, object_id) or []
            ) != sorted(revision_tag_ids(older.revision, object_id) or []):
                changed.append("tags")
            rows.append(
                {
                    "version": newer,
                    "changed": "created"
                    if older is None
                    else (", ".join(changed) or "no text change"),
                    "diff_url": reverse(
                        "admin:articles_article_diff", args=[quote(object_id), newer.pk]
                    ),
                    "restore_url": reverse(
                        "admin:articles_article_revision", args=[quote(object_id), newer.pk]
                    ),
                }
            )
        extra_context = {**(extra_context or {}), "rows": rows}
        return super().history_view(request, object_id, extra_context)

    def get_object(self, request, object_id, from_field=None):
        article = super().get_object(request, object_id, from_field)
        if article is not None and getattr(request, "_article_current_version", None):
            # In the revision view, inside its transaction: a restored tag row whose tag
            # was merged or deleted since names nothing; drop it, keep the others.
            dropped, _ = (
                TaggedItem.objects.filter(
                    object_id=article.pk,
                    content_type__app_label="articles",
                    content_type__model="article",
                )
                .exclude(tag_id__in=Tag.objects.values("pk"))
                .delete()
            )
            if dropped and request.method == "GET":
                messages.warning(
                    request,
                    f"{dropped} tag(s) of this revision were merged or deleted since; "
                    "check the Tags box.",
                )
        return article

    def _versions(self, object_id):
        return (
            Version.objects.get_for_object_reference(Article, object_id)
            .select_related("revision__user")
            .order_by("-revision__date_created", "-pk")
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/history/<int:version_id>/changes/",
                self.admin_site.admin_view(self.diff_view),
                name="articles_article_diff",
            ),
            *super().get_urls(),
        ]

    def diff_view(self, request, object_id, version_id):
        """What one save changed: title, dek and body word by word, other fields listed."""
        article = self.get_object(request, object_id)
        if article is None:
            raise Http404
        if not self.has_view_or_change_permission(request, article):
            raise PermissionDenied
        versions = list(self._versions(object_id))
        index = next((i for i, v in enumerate(versions) if v.pk == version_id), None)
        if index is None:
            raise Http404
        version = versions[index]
        previous = versions[index + 1] if index + 1 < len(versions) else None
        new, old = _fields(version), _fields(previous) if previous else {}
        diffs = []
        for name, label in DIFF_FIELDS:
            before, after = old.get(name, ""), new.get(name, "")
            if name == "body":
                before, after = readable_text(before), readable_text(after)
            diffs.append(
                {"label": label, "changed": before != after, "pieces": word_diff(before, after)}
            )
        others = [
            {"label": label, "before": old.get(name), "after": new.get(name)}
            for name, label in OTHER_FIELDS
            if old.get(name) != new.get(name)
        ]
        tags_after = tag_names(revision_tag_ids(version.revision, article.pk))
        tags_before = tag_names(revision_tag_ids(previous.revision, article.pk)) if previous else []
        if tags_before != tags_after:
            others.append(
                {
                    "label": "tags",
                    "before": ", ".join(tags_before) or None,
                    "after": ", ".join(tags_after) or None,
                    "removed": [name for name in tags_before if name not in tags_after],
                    "added": [name for name in tags_after if name not in tags_before],
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Changes to “{Truncator(article.title).chars(60)}”",
            "opts": self.opts,
            "original": article,
            "version": version,
            "previous": previous,
            "diffs": diffs,
            "others": others,
            "restore_url": reverse(
                "admin:articles_article_revision", args=[quote(object_id), version.pk]
            ),
            "history_url": reverse("admin:articles_article_history", args=[quote(object_id)]),
        }
        return TemplateResponse(request, "admin/articles/article/revision_diff.html", context)
