"""What came from WordPress: the import map and the old addresses that still answer."""

import re
from urllib.parse import unquote

from django.db import models
from django.urls import reverse

from articles.models import Article, Author, Image


def legacy_path(path):
    """The form old paths are stored and looked up in: decoded, lower case, ending in /."""
    path = unquote(path or "").strip().lower()
    path = re.sub(r"/{2,}", "/", "/" + path.lstrip("/"))
    if not path.endswith("/"):
        path += "/"
    return path[:500]


class ImportedItem(models.Model):
    """One WordPress object and what it became here; the key of idempotent imports.

    `site` is the exported site's address, so two sites' post 12 never meet.
    """

    class Kind(models.TextChoices):
        POST = "post", "Post"
        ATTACHMENT = "attachment", "Attachment"
        FILE = "file", "Uploaded file"
        AUTHOR = "author", "Author"

    site = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    wp_id = models.CharField(
        "WordPress ID", max_length=255,
        help_text="Post or attachment ID, author login, or file path under uploads/.",
    )  # fmt: skip
    guid = models.CharField("GUID", max_length=500, blank=True)
    parent_wp_id = models.CharField("parent ID", max_length=20, blank=True)
    file_path = models.CharField(
        max_length=500, blank=True, help_text="An image's path under wp-content/uploads/."
    )
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    image = models.ForeignKey(
        Image, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author = models.ForeignKey(
        Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField(
        blank=True, help_text="The author's email in WordPress; kept private, never shown."
    )
    fingerprint = models.CharField(max_length=64, blank=True)
    article_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The article's version the import wrote."
    )
    is_sticky = models.BooleanField(default=False, help_text="Sticky on the WordPress home page.")
    has_problems = models.BooleanField(
        default=False, help_text="Imported with problems; --update tries it again."
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["site", "kind", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["site", "kind", "wp_id"], name="unique_imported_item"),
        ]
        indexes = [models.Index(fields=["wp_id", "kind"], name="imported_item_wp_id_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.wp_id} from {self.site}"

    def get_absolute_url(self):
        return reverse("admin:wordpress_importeditem_change", args=[self.pk])

    def target_url(self, *, file=False):
        """Where an old address of this object now leads, or None.

        An attachment page leads to the article it belongs to; its file's old URL
        (`file=True`) to the library file.
        """
        if file and self.image is not None and self.image.file:
            return self.image.file.url
        if self.article is not None and self.article.is_public:
            return self.article.get_absolute_url()
        if self.kind != self.Kind.POST and self.image is not None and self.image.file:
            return self.image.file.url
        return None


class LegacyURL(models.Model):
    """An old WordPress path ("/2019/03/04/slug/") that answers 301 to what it became."""

    path = models.CharField(max_length=500, unique=True, help_text="Lower case, ends with /.")
    item = models.ForeignKey(ImportedItem, on_delete=models.CASCADE, related_name="legacy_urls")

    class Meta:
        ordering = ["path"]
        verbose_name = "legacy URL"
        verbose_name_plural = "legacy URLs"

    def __str__(self):
        return self.path

    def get_absolute_url(self):
        return self.path
