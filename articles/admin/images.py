"""The image library: its list, its change form (focal point, usage) and the picker."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from articles import images
from articles.forms import ImageAdminForm
from articles.models import Image, Rendition
from articles.tasks import enqueue_renditions


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


class ExpiredRightsFilter(admin.SimpleListFilter):
    """Images whose rights have ended (Image.objects.rights_expired()), or still usable.

    On a list of what uses images, a subclass names the field that points to one.
    """

    title = "rights"
    parameter_name = "rights"
    image_field = "pk"

    def lookups(self, request, model_admin):
        return [("expired", "Expired"), ("valid", "Usable")]

    def queryset(self, request, queryset):
        expired = {f"{self.image_field}__in": Image.objects.rights_expired().values("pk")}
        if self.value() == "expired":
            return queryset.filter(**expired)
        if self.value() == "valid":
            return queryset.exclude(**expired)
        return queryset


class LeadImageRightsFilter(ExpiredRightsFilter):
    """Articles whose lead image's rights have ended."""

    title = "lead image rights"
    parameter_name = "image_rights"
    image_field = "lead_image"

    def lookups(self, request, model_admin):
        return [("expired", "Expired")]


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
