from django.contrib import admin

from wordpress.models import ImportedItem, LegacyURL


class LegacyURLInline(admin.TabularInline):
    model = LegacyURL
    extra = 0
    fields = ["path"]
    readonly_fields = ["path"]
    can_delete = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ImportedItem)
class ImportedItemAdmin(admin.ModelAdmin):
    """What the import brought in, to check it; the import itself is the command."""

    list_display = ["wp_id", "kind", "site", "article", "image", "author", "is_sticky",
                    "has_problems", "updated_at"]  # fmt: skip
    list_filter = ["kind", "has_problems", "is_sticky", "site"]
    list_select_related = ["article", "image", "author"]
    search_fields = ["wp_id", "guid", "file_path", "article__title"]
    readonly_fields = [field.name for field in ImportedItem._meta.fields]
    inlines = [LegacyURLInline]

    def has_add_permission(self, request):
        return False


@admin.register(LegacyURL)
class LegacyURLAdmin(admin.ModelAdmin):
    list_display = ["path", "item"]
    list_select_related = ["item"]
    search_fields = ["path"]
    raw_id_fields = ["item"]
