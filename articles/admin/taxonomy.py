"""How articles are filed: sections, authors and tags (with merging)."""

from django.contrib import admin, messages
from django.db.models import Count
from django.template.response import TemplateResponse
from taggit.admin import TagAdmin as TaggitTagAdmin
from taggit.models import Tag

from articles import services
from articles.forms import MergeTagsForm
from articles.models import Author, Section


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
