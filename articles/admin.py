"""The editors' admin: articles with their workflow, the image library, authors, tags."""

import difflib
import html
import re
from functools import cached_property

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from reversion.admin import VersionAdmin
from reversion.models import Version
from taggit.admin import TagAdmin as TaggitTagAdmin
from taggit.models import Tag, TaggedItem

from articles import images, search, services
from articles.editor_admin import ArticleEditorMixin, lead_image_summary, render_checklist
from articles.forms import (
    ArticleAdminForm,
    BylineFormSet,
    ImageAdminForm,
    MergeTagsForm,
    NoteForm,
    NoteFormSet,
    ScheduleForm,
)
from articles.front_page_admin import put_on_front_page_as_lead
from articles.models import Article, Author, Byline, Image, Note, OldSlug, Rendition, Section
from articles.tasks import enqueue_renditions


class EstimatedCountPaginator(Paginator):
    """Counts an unfiltered PostgreSQL table from its statistics, not with COUNT(*).

    COUNT(*) over 100,000 articles costs more than the rest of the page; the planner's
    estimate (kept fresh by autovacuum) is plenty for "page 3 of about 5,000".
    Filtered lists, small tables and SQLite get the exact count.
    """

    exact_below = 10_000

    @cached_property
    def count(self):
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is not None and not query.where and not query.distinct:
            connection = connections[queryset.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                        [queryset.model._meta.db_table],
                    )
                    row = cursor.fetchone()
                if row and row[0] >= self.exact_below:
                    return row[0]
        return super().count


def thumbnail(image, *, size=64):
    """A small picture for admin lists: the smallest rendition when it exists."""
    if image is None:
        return "—"
    renditions = [
        r for r in image.renditions.all() if r.format == Rendition.Format.JPEG and not r.crop
    ]
    source = min(renditions, key=lambda r: r.width).file.url if renditions else image.file.url
    return format_html(
        '<img src="{}" alt="" width="{}" height="{}" loading="lazy" class="admin-thumbnail">',
        source,
        size,
        round(size * image.height / image.width) if image.width else size,
    )


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "is_in_navigation", "slug"]
    list_editable = ["position", "is_in_navigation"]
    list_display_links = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "article_count", "user"]
    list_select_related = ["user"]
    search_fields = ["name", "role"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["photo", "user"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "role", "bio", "photo", "user"]}),
        (
            "Links",
            {"fields": ["website", "x_url", "bluesky_url", "mastodon_url", "linkedin_url"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(article_count=Count("bylines"))

    @admin.display(description="Articles", ordering="article_count")
    def article_count(self, author):
        return author.article_count


class ExpiredRightsFilter(admin.SimpleListFilter):
    title = "rights"
    parameter_name = "rights"

    def lookups(self, request, model_admin):
        return [("expired", "Expired"), ("valid", "Usable")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        expired = Q(usable_until__lt=today)
        if self.value() == "expired":
            return queryset.filter(expired)
        if self.value() == "valid":
            return queryset.exclude(expired)
        return queryset


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    form = ImageAdminForm
    list_display = ["preview", "__str__", "credit_line", "size", "rights_ok", "uploaded_at"]
    list_display_links = ["preview", "__str__"]
    list_filter = [ExpiredRightsFilter, "uploaded_at"]
    search_fields = ["alt_text", "caption", "credit", "source"]
    date_hierarchy = "uploaded_at"
    readonly_fields = ["focal_point_picker", "size", "usage", "uploaded_by"]
    fieldsets = [
        (None, {"fields": ["file", "alt_text", "caption"]}),
        ("Credit and rights", {"fields": ["credit", "source", "license", "acquire_license_page",
                                       "copyright_notice", "usable_until"]}),
        ("Focal point", {"fields": ["focal_point_picker", ("focal_x", "focal_y")],
                         "description": "Click the picture on what must stay in view when it is cropped."}),
        ("Details", {"fields": ["size", "usage", "uploaded_by"], "classes": ["collapse"]}),
    ]  # fmt: skip

    class Media:
        js = ["js/admin/focal-point.js"]
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("renditions", queryset=Rendition.objects.filter(width__lte=400))
            )
        )

    @admin.display(description="Picture")
    def preview(self, image):
        return thumbnail(image)

    @admin.display(description="Size")
    def size(self, image):
        return f"{image.width} x {image.height}" if image.width else "—"

    @admin.display(description="Rights", boolean=True)
    def rights_ok(self, image):
        return not image.is_expired

    @admin.display(description="Click to set the focal point")
    def focal_point_picker(self, image):
        if not image.pk or not image.file:
            return "Upload the picture first."
        return format_html(
            '<div class="focal-point" data-focal-x="{}" data-focal-y="{}">'
            '<img src="{}" alt="{}" width="{}" height="{}">'
            '<span class="focal-point__marker" aria-hidden="true"></span></div>',
            image.focal_x,
            image.focal_y,
            image.file.url,
            image.alt_text,
            image.width,
            image.height,
        )

    @admin.display(description="Where it is used")
    def usage(self, image):
        if not image.pk:
            return "—"
        links = self._usage_links(image)
        if not links:
            return "Not used anywhere: it can be deleted."
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((link,) for link in links))
        )

    def _usage_links(self, image):
        used = image.usages()
        links = []
        for kind, label in (("lead", "lead image of"), ("inline", "in the body of")):
            for article in used[kind]:
                url = reverse("admin:articles_article_change", args=[article.pk])
                links.append(format_html('{} <a href="{}">{}</a>', label, url, article.title))
        for author in used["author_photos"]:
            url = reverse("admin:articles_author_change", args=[author.pk])
            links.append(format_html('photo of <a href="{}">{}</a>', url, author.name))
        return links

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # PROTECT covers lead images and author photos; the body refers by id only.
        for image in objs:
            for article in image.usages()["inline"]:
                protected.append(
                    format_html(
                        'Article: <a href="{}">{}</a> (in its body)',
                        reverse("admin:articles_article_change", args=[article.pk]),
                        article.title,
                    )
                )
        return deleted, model_count, perms_needed, protected

    def save_model(self, request, obj, form, change):
        new_file = "file" in form.changed_data
        if not change:
            obj.uploaded_by = request.user
        if change and new_file:
            images.delete_renditions(obj)
        # The crops are cut around the focal point: a new one needs new crops.
        new_focus = change and not new_file and {"focal_x", "focal_y"} & set(form.changed_data)
        if new_focus:
            images.delete_crops(obj)
        super().save_model(request, obj, form, change)
        if new_file or new_focus:
            enqueue_renditions(obj)

    def response_add(self, request, obj, post_url_continue=None):
        # Straight to the image's page: the editor checks the credit read from the file.
        if "_addanother" not in request.POST and "_popup" not in request.POST:
            request.POST = request.POST.copy()
            request.POST["_continue"] = "1"
        return super().response_add(request, obj, post_url_continue)

    def get_urls(self):
        return [
            path(
                "picker/",
                self.admin_site.admin_view(self.picker_view),
                name="articles_image_picker",
            ),
            *super().get_urls(),
        ]

    def picker_view(self, request):
        """The image library as the body editor's "Browse…" window."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        queryset = self.get_queryset(request)
        term = request.GET.get("q", "").strip()
        if term:
            queryset, _ = self.get_search_results(request, queryset, term)
        page = Paginator(queryset, 24).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Choose an image",
            "opts": self.opts,
            "page": page,
            "term": term,
            "func_num": request.GET.get("CKEditorFuncNum", ""),
            "is_popup": True,
        }
        return TemplateResponse(request, "admin/articles/image/picker.html", context)


@admin.action(description="Merge selected tags…", permissions=["change"])
def merge_tags(modeladmin, request, queryset):
    if queryset.count() < 2:
        modeladmin.message_user(request, "Select at least two tags to merge.", messages.WARNING)
        return None
    form = MergeTagsForm(request.POST if "confirm" in request.POST else None, tags=queryset)
    if form.is_bound and form.is_valid():
        into = form.cleaned_data["into"]
        names = [tag.name for tag in queryset if tag.pk != into.pk]
        services.merge_tags(tags=list(queryset), into=into)
        modeladmin.message_user(request, f"Merged {', '.join(names)} into {into.name}.")
        return None
    return TemplateResponse(
        request,
        "admin/articles/tag/merge_confirmation.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": "Merge tags",
            "opts": modeladmin.opts,
            "form": form,
            "queryset": queryset,
            "action": "merge_tags",
        },
    )


admin.site.unregister(Tag)


@admin.register(Tag)
class TagAdmin(TaggitTagAdmin):
    list_display = ["name", "slug", "article_count"]
    search_fields = ["name"]
    actions = [merge_tags]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(article_count=Count("taggit_taggeditem_items"))
        )

    @admin.display(description="Articles", ordering="article_count")
    def article_count(self, tag):
        return tag.article_count


class SingleLineField(forms.CharField):
    """Text typed in a wrapping box but kept on one line: line breaks become spaces."""

    def to_python(self, value):
        value = super().to_python(value)
        return re.sub(r"\s*[\r\n]+\s*", " ", value).strip() if value else value


class LabelledBylineFormSet(BylineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:  # a table cell's checkbox has no <label> of its own
            form.fields["DELETE"].widget.attrs["aria-label"] = "Remove this author"


class BylineInline(admin.TabularInline):
    model = Byline
    formset = LabelledBylineFormSet
    autocomplete_fields = ["author"]
    fields = ["author", "position"]
    extra = 0
    min_num = 0
    verbose_name = "author"
    verbose_name_plural = "Byline (in order)"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # A table row's inputs have no <label>: name each for screen readers.
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in ("author", "position"):
            field.widget.attrs["aria-label"] = (
                "Byline author" if db_field.name == "author" else "Byline position"
            )
        return field


class NoteInline(admin.StackedInline):
    model = Note
    form = NoteForm
    formset = NoteFormSet
    extra = 0
    fields = ["kind", "text", "created_at"]
    verbose_name = "correction or update"
    verbose_name_plural = (
        "Corrections and updates (shown on the article; new ones move its updated time)"
    )


class OldSlugInline(admin.TabularInline):
    model = OldSlug
    extra = 0
    fields = ["slug", "created_at"]
    readonly_fields = ["slug", "created_at"]
    can_delete = True
    verbose_name_plural = "Old addresses (they redirect to the current one)"

    def has_add_permission(self, request, obj=None):
        return False


class ImageRightsFilter(admin.SimpleListFilter):
    title = "lead image rights"
    parameter_name = "image_rights"

    def lookups(self, request, model_admin):
        return [("expired", "Expired")]

    def queryset(self, request, queryset):
        if self.value() == "expired":
            return queryset.filter(lead_image__usable_until__lt=timezone.localdate())
        return queryset


class AuthorListFilter(admin.RelatedFieldListFilter):
    def field_choices(self, field, request, model_admin):
        return [(author.pk, author.name) for author in Author.objects.only("pk", "name")]


def _confirmation(modeladmin, request, queryset, *, action, title, template, extra=None):
    return TemplateResponse(
        request,
        f"admin/articles/article/{template}",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "opts": modeladmin.opts,
            "action": action,
            "rows": [(article, article.publish_problems()) for article in queryset],
            "queryset": queryset,
            **(extra or {}),
        },
    )


def _run(modeladmin, request, queryset, service, verb, **kwargs):
    done, refused = [], []
    for article in queryset:
        try:
            service(article=article, by=request.user, **kwargs)
        except ValidationError as error:
            refused.append(f"“{article}”: {' '.join(error.messages)}")
        else:
            done.append(article)
    if done:
        modeladmin.message_user(request, f"{verb} {len(done)} article(s).", messages.SUCCESS)
    for message in refused:
        modeladmin.message_user(request, f"Not {verb.lower()} {message}", messages.ERROR)


def _selection(queryset):
    return queryset.select_related("section", "lead_image").prefetch_related("bylines")


@admin.action(description="Publish now…", permissions=["publish"])
def publish_now(modeladmin, request, queryset):
    if request.POST.get("confirm") != "yes":
        return _confirmation(
            modeladmin,
            request,
            _selection(queryset),
            action="publish_now",
            title="Publish these articles now?",
            template="publish_confirmation.html",
        )
    _run(modeladmin, request, queryset, services.publish_article, "Published")
    return None


@admin.action(description="Schedule…", permissions=["publish"])
def schedule(modeladmin, request, queryset):
    form = ScheduleForm(request.POST if request.POST.get("confirm") == "yes" else None)
    if form.is_bound and form.is_valid():
        at = form.cleaned_data["publish_at"]
        _run(modeladmin, request, queryset, services.schedule_article, "Scheduled", at=at)
        return None
    return _confirmation(
        modeladmin,
        request,
        _selection(queryset),
        action="schedule",
        title="Schedule these articles",
        template="schedule_confirmation.html",
        extra={"form": form, "media": modeladmin.media + form.media},
    )


@admin.action(description="Unpublish…", permissions=["publish"])
def unpublish(modeladmin, request, queryset):
    if request.POST.get("confirm") != "yes":
        return _confirmation(
            modeladmin,
            request,
            _selection(queryset),
            action="unpublish",
            title="Take these articles off the site?",
            template="unpublish_confirmation.html",
        )
    _run(modeladmin, request, queryset, services.unpublish_article, "Unpublished")
    return None


@admin.action(description="Submit for review", permissions=["change"])
def submit_for_review(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, services.submit_for_review, "Submitted")


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


@admin.register(Article)
class ArticleAdmin(ArticleEditorMixin, VersionAdmin):
    form = ArticleAdminForm
    inlines = [BylineInline, NoteInline, OldSlugInline]
    list_display = [
        "lead_thumbnail", "title", "status_label", "publish_at", "section", "byline",
        "kind", "modified_at", "image_rights_ok",
    ]  # fmt: skip
    list_display_links = ["lead_thumbnail", "title"]
    list_select_related = ["section", "lead_image"]
    # A publish-date filter (today, past 7 days, this month, this year) rather than a
    # date hierarchy: the hierarchy runs MIN/MAX and DISTINCT DATE_TRUNC over the whole
    # filtered list on every request, 30-50 ms on 100,000 articles and about 400 ms
    # each on a search; the filter's choices cost no query.
    list_filter = [
        "status", "section", "kind", "publish_at", ("authors", AuthorListFilter),
        ImageRightsFilter,
    ]  # fmt: skip
    list_per_page = 50
    # The body is searched too, by full text on PostgreSQL: see get_search_results().
    search_fields = ["title", "dek", "bylines__author__name"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    autocomplete_fields = ["section", "lead_image"]
    readonly_fields = [
        "checklist", "lead_image_preview", "first_published_at", "created_at", "modified_at",
        "version", "created_by",
    ]  # fmt: skip
    # Writing first: title, dek and body in the main column; everything else in the
    # panel beside it (below it on narrow screens), see change_form.html.
    fieldsets = [
        (None, {"fields": ["title", "dek", "body"], "classes": ["editor-main"]}),
        ("Publishing", {"fields": ["checklist", "status", "publish_at", "updated_at", "expected_version"],
                        "classes": ["editor-side"]}),
        ("Story", {"fields": ["kind", "section", "tags", "slug"], "classes": ["editor-side"]}),
        ("Lead image", {"fields": ["lead_image", "lead_image_preview", "lead_image_caption"],
                        "classes": ["editor-side"]}),
        ("Search engines and sharing", {"fields": ["seo_title", "seo_description"],
                                        "classes": ["collapse", "editor-side"]}),
        ("Record", {"fields": ["first_published_at", "created_at", "modified_at", "created_by", "version"],
                    "classes": ["collapse", "editor-side"]}),
    ]  # fmt: skip
    actions = [publish_now, schedule, unpublish, submit_for_review, put_on_front_page_as_lead]
    object_history_template = "admin/articles/article/object_history.html"
    change_form_template = "admin/articles/article/change_form.html"

    class Media:
        css = {"all": ["css/admin.css"]}
        js = ["js/admin/article-editor.js", "js/admin/autocomplete-names.js"]

    # Permissions: the workflow's rules, enforced for every request.

    def has_publish_permission(self, request):
        return services.can_publish(request.user)

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or services.can_edit(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or services.can_publish(request.user) or obj.status == "draft"

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "bylines",
                    queryset=Byline.objects.select_related("author").only(
                        "article_id", "position", "author__name"
                    ),
                ),
                Prefetch(
                    "lead_image__renditions",
                    queryset=Rendition.objects.filter(format="jpeg", width__lte=400),
                ),
            )
        )
        return queryset.visible_to_staff(request.user)

    # Search: titles, deks and author names by substring; bodies by full text.

    def get_search_fields(self, request):
        fields = list(super().get_search_fields(request))
        # Without a full-text column (SQLite: small, local data) the body is one more
        # substring match; on PostgreSQL UPPER(body) LIKE '%…%' reads every body.
        return fields if search.uses_full_text() else [*fields, "body"]

    def get_search_results(self, request, queryset, search_term):
        """The admin's substring search, or the full-text match through the GIN index.

        An article is found when every word is in its title, dek or an author's name
        (Django's search), or when the words match its title, dek and body as the site
        search reads them (word forms too: "refugee" finds "refugees").
        """
        matched, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search.clean_query(search_term)
        if not term or not search.uses_full_text(queryset.db):
            return matched, may_have_duplicates
        by_text = search.matching(term, Article.objects.all()).values("pk")
        return queryset.filter(Q(pk__in=matched.values("pk")) | Q(pk__in=by_text)), False

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not services.can_publish(request.user):
            fields += ["publish_at", "updated_at"]
        return fields

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        if obj is None or not obj.was_published:
            inlines = [i for i in inlines if not isinstance(i, (NoteInline, OldSlugInline))]
        return inlines

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "title":
            # A headline box that wraps and grows (CSS field-sizing); still one line of text.
            kwargs["form_class"] = SingleLineField
            kwargs["widget"] = forms.Textarea(attrs={"rows": 1, "class": "vLargeTextField"})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        attributes = {
            "user": request.user,
            "current_version": getattr(request, "_article_current_version", None),
            "revision_tags": getattr(request, "_article_revision_tags", None),
        }
        return type(form.__name__, (form,), attributes)

    # Columns.

    @admin.display(description="")
    def lead_thumbnail(self, article):
        return thumbnail(article.lead_image, size=48)

    @admin.display(description="Status", ordering="status")
    def status_label(self, article):
        return format_html(
            '<span class="status status--{}">{}</span>',
            article.effective_status,
            article.get_effective_status_display(),
        )

    @admin.display(description="Authors")
    def byline(self, article):
        return ", ".join(b.author.name for b in article.bylines.all()) or "—"

    @admin.display(description="Image rights", boolean=True)
    def image_rights_ok(self, article):
        return None if article.lead_image is None else not article.lead_image.is_expired

    @admin.display(description="Before publishing")
    def checklist(self, article):
        # Live in the browser (article-editor.js); this is the server's answer at load.
        return render_checklist(article)

    @admin.display(description="Preview")
    def lead_image_preview(self, article):
        return render_to_string(
            "admin/articles/article/lead_image_preview.html",
            {"image": lead_image_summary(article.lead_image) if article.lead_image_id else None},
        )

    # Saving.

    def save_model(self, request, obj, form, change):
        current = getattr(request, "_article_current_version", None)
        if current is not None:
            obj.version = current
        old_slug = form.initial.get("slug") if change else None
        services.save_article(article=obj, by=request.user, old_slug=old_slug)

    def save_formset(self, request, form, formset, change):
        instances = formset.save()
        if formset.model is Note:
            services.record_notes(article=form.instance, notes=instances)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        is_contributor = request.user.has_perm(
            "articles.change_article"
        ) and not services.can_publish(request.user)
        if request.method == "GET" and object_id and is_contributor:
            refused = self._refuse_contributor(request, object_id)
            if refused is not None:
                return refused
        if request.method == "GET":
            article = self.get_object(request, object_id)
            if article is not None:
                self._warn_about_expired_images(request, article)
        extra_context = {**(extra_context or {}), **self._editor_urls(object_id)}
        if object_id:
            extra_context["preview_url"] = reverse("articles:article-preview", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **self._editor_urls(None)}
        return super().add_view(request, form_url, extra_context)

    def _editor_urls(self, object_id):
        return {
            "checklist_url": reverse("admin:articles_article_checklist"),
            "autosave_url": reverse("admin:articles_article_autosave", args=[object_id])
            if object_id
            else reverse("admin:articles_article_autosave_new"),
        }

    def _refuse_contributor(self, request, object_id):
        """Tell a contributor why an article is not theirs to change (never "deleted?").

        Their own article is shown read-only with the reason; a published article of
        someone else sends them back to their list with it. Someone else's unpublished
        article stays hidden (Django's "does not exist"): its title is not theirs to see.
        """
        article = Article.objects.filter(pk=unquote(object_id)).first()
        reason = article and services.why_not_editable(request.user, article)
        if not reason:
            return None
        if Article.objects.owned_by(request.user).filter(pk=article.pk).exists():
            messages.info(request, reason)
            return None
        if not article.is_public:
            return None
        messages.info(request, reason)
        return redirect("admin:articles_article_changelist")

    def _warn_about_expired_images(self, request, article):
        expired = [
            image
            for image in [article.lead_image, *article.body_images()]
            if image and image.is_expired
        ]
        for image in expired:
            messages.warning(
                request,
                f"The rights to the image “{image}” ended on {image.usable_until:%d %B %Y}: "
                "replace it.",
            )

    # Revisions: a readable history with a diff, and restore.

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
