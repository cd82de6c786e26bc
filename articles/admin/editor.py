"""The article editor's live parts: the pre-publish checklist as the editor types, the
lead image's preview as soon as it is chosen, and autosave. JSON endpoints under the
article admin, used by static/js/admin/article-editor.js; the form works without them."""

from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import modelform_factory
from django.http import Http404, JsonResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone

from articles import services
from articles.models import Article, Image
from articles.richtext import sanitize_html

#: The checklist's fields and the element each links to on the form.
FIELD_ANCHORS = {
    "title": "id_title",
    "section": "id_section",
    "bylines": "bylines-group",
    "dek": "id_dek",
    "lead_image": "id_lead_image",
    "body": "id_body",
}


def checklist_items(article, *, has_authors=None):
    return [
        {"field": field, "anchor": FIELD_ANCHORS.get(field, f"id_{field}"), "message": message}
        for field, message in article.publish_checklist(has_authors=has_authors)
    ]


def render_checklist(article, *, has_authors=None):
    return render_to_string(
        "admin/articles/article/checklist.html",
        {"items": checklist_items(article, has_authors=has_authors)},
    )


def lead_image_summary(image):
    if image is None:
        return None
    renditions = [r for r in image.renditions.all() if r.format == "jpeg" and r.width <= 800]
    source = min(renditions, key=lambda r: r.width).file.url if renditions else image.file.url
    return {
        "url": source,
        "width": image.width,
        "height": image.height,
        "alt": image.alt_text,
        "caption": image.caption,
        "credit": image.credit_line,
        "expired": image.is_expired,
        "change_url": reverse("admin:articles_image_change", args=[image.pk]),
    }


def _count_authors(data):
    """Byline rows the form would keep: an author chosen and not marked for deletion."""
    try:
        total = int(data.get("bylines-TOTAL_FORMS", 0))
    except ValueError:
        return 0
    return sum(
        1
        for index in range(min(total, 1000))
        if data.get(f"bylines-{index}-author") and not data.get(f"bylines-{index}-DELETE")
    )


class ArticleEditorMixin:
    """Endpoints of the writing-first editor, mixed into ArticleAdmin."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("editor/checklist/", view(self.live_checklist_view), name="articles_article_checklist"),
            path("add/autosave/", view(self.autosave_view), name="articles_article_autosave_new"),
            path("<path:object_id>/autosave/", view(self.autosave_view), name="articles_article_autosave"),
            *super().get_urls(),
        ]  # fmt: skip

    def _unsaved_article(self, request):
        """An article built from the form's current values, never saved."""
        data = request.POST
        article = Article(
            title=data.get("title", ""),
            dek=data.get("dek", ""),
            # As it will be stored: the picker's images tied to the library, as on save.
            body=sanitize_html(data.get("body", "")),
            seo_description=data.get("seo_description", ""),
        )
        section = data.get("section", "")
        article.section_id = int(section) if section.isdigit() else None
        image_id = data.get("lead_image", "")
        image = (
            Image.objects.prefetch_related("renditions").filter(pk=int(image_id)).first()
            if image_id.isdigit()
            else None
        )
        article.lead_image = image
        return article

    @staticmethod
    def _post_only(request):
        if request.method != "POST":
            return JsonResponse({"error": "POST only."}, status=405)
        return None

    def live_checklist_view(self, request):
        """The checklist and the lead image for what is in the form now (nothing is saved)."""
        refused = self._post_only(request)
        if refused:
            return refused
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        article = self._unsaved_article(request)
        return JsonResponse(
            {
                "items": checklist_items(article, has_authors=_count_authors(request.POST) > 0),
                "lead_image": lead_image_summary(article.lead_image),
            }
        )

    def autosave_view(self, request, object_id=None):
        refused = self._post_only(request)
        if refused:
            return refused
        if object_id is None:
            if not self.has_add_permission(request):
                raise PermissionDenied
            article = Article()
        else:
            article = self.get_object(request, object_id)
            if article is None:
                raise Http404
            if not self.has_change_permission(request, article):
                raise PermissionDenied
        form_class = modelform_factory(
            Article,
            fields=services.AUTOSAVE_FIELDS,
            formfield_callback=partial(self.formfield_for_dbfield, request=request),
        )
        form = form_class(
            request.POST, instance=Article.objects.get(pk=article.pk) if article.pk else None
        )
        if not form.is_valid():
            problems = [
                f"{form.fields[name].label}: {' '.join(errors)}"
                if name in form.fields
                else " ".join(errors)
                for name, errors in form.errors.items()
            ]
            return JsonResponse({"error": "Not saved yet. " + " ".join(problems)}, status=400)
        expected = request.POST.get("expected_version", "")
        try:
            saved = services.autosave_draft(
                article=article,
                values=form.cleaned_data,
                expected_version=int(expected) if expected.isdigit() else None,
                by=request.user,
            )
        except services.EditConflict as conflict:
            return JsonResponse(
                {"error": " ".join(conflict.messages), "conflict": True}, status=409
            )
        except ValidationError as error:
            return JsonResponse({"error": " ".join(error.messages)}, status=400)
        article = saved.article
        return JsonResponse(
            {
                "saved_at": timezone.now().isoformat(),
                "version": article.version,
                "on_article": saved.on_article,
                "change_url": reverse("admin:articles_article_change", args=[article.pk]),
                "autosave_url": reverse("admin:articles_article_autosave", args=[article.pk]),
                "history_url": reverse("admin:articles_article_history", args=[article.pk]),
            }
        )
