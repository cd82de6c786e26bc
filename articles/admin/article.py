"""The article admin: the list with its filters and workflow actions, the writing-first
change form with its inlines. The live editor endpoints are in editor.py, the history in
revisions.py."""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import Prefetch, Q
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from reversion.admin import VersionAdmin

from articles import search, services
from articles.admin.editor import ArticleEditorMixin, lead_image_summary, render_checklist
from articles.admin.front_page import put_on_front_page_as_lead
from articles.admin.images import LeadImageRightsFilter, thumbnail
from articles.admin.revisions import ArticleHistoryMixin
from articles.admin.workflow import publish_now, schedule, submit_for_review, unpublish
from articles.forms import ArticleAdminForm, BylineFormSet, NoteForm, NoteFormSet
from articles.models import Article, Author, Byline, Note, OldSlug, Rendition
from newsroom.paginators import EstimatedCountPaginator


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


class AuthorListFilter(admin.RelatedFieldListFilter):
    def field_choices(self, field, request, model_admin):
        return [(author.pk, author.name) for author in Author.objects.only("pk", "name")]


@admin.register(Article)
class ArticleAdmin(ArticleHistoryMixin, ArticleEditorMixin, VersionAdmin):
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
        LeadImageRightsFilter,
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
            "autosave_fields": services.AUTOSAVE_FIELDS,
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
