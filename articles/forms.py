"""Forms of the editors' admin. The rules they enforce hold whoever sends the POST."""

from django import forms
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from taggit.forms import TagWidget
from taggit.models import Tag

from articles import images, licences, services
from articles.models import Article, Image, Note, OldSlug
from articles.slugs import make_slug
from newsroom.admin import ZonedSplitDateTime
from newsroom.forms import KeepsUnchangedTimes


class TagAutocompleteInput(TagWidget):
    """taggit's own comma-separated input, with suggestions from the tag admin's search.

    Built on taggit's TagWidget so the value is written the way taggit parses it back
    (`edit_string_for_tags`: names with a comma or a space in double quotes). A plain
    TextInput showed the Python list of tags, and saving that made new tags of it.
    """

    class Media:
        js = ["js/admin/tag-autocomplete.js"]

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", "class": "vTextField", **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        widget_attrs["list"] = f"{widget_attrs.get('id', name)}-suggestions"
        widget_attrs["data-autocomplete-url"] = (
            reverse("admin:autocomplete") + "?app_label=articles&model_name=article&field_name=tags"
        )
        return context

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        list_id = f"{(attrs or {}).get('id', name)}-suggestions"
        return html + format_html('<datalist id="{}"></datalist>', list_id)


class ArticleAdminForm(KeepsUnchangedTimes, forms.ModelForm):
    # The version the editor started from: a save based on an older one is refused.
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    #: Set per request by ArticleAdmin.get_form().
    user = None
    #: In the revision view the database holds the reverted row; this is the real version.
    current_version = None
    #: In the revision view, the tags to offer when the revision kept none.
    revision_tags = None

    class Meta:
        model = Article
        fields = [
            "title", "slug", "dek", "kind", "section", "tags", "lead_image",
            "lead_image_caption", "body", "status", "publish_at", "updated_at",
            "seo_title", "seo_description",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expected_version"].initial = self.current_version or self.instance.version
        if self.instance.pk and "status" in self.fields:
            # A scheduled article whose time came shows as what it is: published.
            self.initial["status"] = self.instance.effective_status
        if self.revision_tags is not None and not self.is_bound:
            self.initial["tags"] = self.revision_tags
        if "tags" in self.fields:
            self.fields["tags"].widget = TagAutocompleteInput()
        if "slug" in self.fields:
            self.fields["slug"].required = False
        status = self.fields.get("status")
        if status is not None and self.user is not None and not services.can_publish(self.user):
            status.choices = [
                (value, label)
                for value, label in Article.Status.choices
                if value in (Article.Status.DRAFT, Article.Status.REVIEW)
            ]
            status.help_text = "Submit for review when the article is ready for an editor."

    def clean_slug(self):
        slug = self.cleaned_data.get("slug")
        if not slug:
            return ""  # the model makes one from the title
        if OldSlug.objects.filter(slug=slug).exclude(article_id=self.instance.pk).exists():
            raise ValidationError(
                "Another article used this address before; choose a different slug.",
                code="old_slug",
            )
        return slug

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            self._check_version(cleaned.get("expected_version"))
            if not {"status", "publish_at"} & set(self.changed_data):
                # Shown as Published, stored as Scheduled: the same to readers, and an
                # unchanged save changes nothing.
                cleaned["status"] = self.instance.status
        status = cleaned.get("status")
        public = status in Article.PUBLIC_STATUSES
        if public and self.user is not None and not services.can_publish(self.user):
            self.add_error("status", "Only editors may publish or schedule articles.")
        publish_at = cleaned.get("publish_at")
        now = timezone.now()
        if status == Article.Status.SCHEDULED:
            if publish_at is None:
                self.add_error("publish_at", "A scheduled article needs a publish time.")
            elif publish_at <= now and (
                "publish_at" in self.changed_data or "status" in self.changed_data
            ):
                self.add_error(
                    "publish_at", "Choose a time in the future, or set the status to Published."
                )
        if status == Article.Status.PUBLISHED and publish_at is None and not self.errors:
            cleaned["publish_at"] = now  # "Published" with no time means now
        if status == Article.Status.PUBLISHED and publish_at and publish_at > now:
            self.add_error(
                "publish_at",
                "A publish time in the future means Scheduled: choose that status instead.",
            )
        return cleaned

    def _check_version(self, expected):
        if expected is None:
            raise ValidationError(
                "This form is missing its version; reload the page.", code="no_version"
            )
        if self.current_version is not None:
            if expected != self.current_version:
                raise services.EditConflict(
                    services.conflict_message(self.instance.pk), code="conflict"
                )
            return
        services.lock_for_edit(pk=self.instance.pk, expected_version=expected)

    def _post_clean(self):
        super()._post_clean()
        # Now the instance carries the submitted values: run the checklist on them.
        # Bylines are checked by the byline formset, which sees its own forms.
        if self.instance.is_public_status and not self.errors:
            for problem in self.instance.publish_problems(has_authors=True):
                self.add_error(None, f"Before publishing: {problem}")


class BylineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if not self.instance.is_public_status:
            return
        kept = [
            form
            for form in self.forms
            if form.cleaned_data.get("author") and not form.cleaned_data.get("DELETE")
        ]
        if not kept:
            raise ValidationError("Before publishing: add at least one author.", code="no_author")


class NoteForm(KeepsUnchangedTimes, forms.ModelForm):
    class Meta:
        model = Note
        fields = ["kind", "text", "created_at"]


class NoteFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        new = [
            form
            for form in self.extra_forms
            if form.has_changed() and not form.cleaned_data.get("DELETE")
        ]
        if new and not self.instance.was_published:
            raise ValidationError(
                "Corrections and updates are for published articles.", code="unpublished"
            )


class LicenceInput(forms.URLInput):
    """A URL box offering the known licences by name (a <datalist>); any URL is accepted."""

    def __init__(self, attrs=None):
        super().__init__({"list": "known-licences", "size": 60, **(attrs or {})})

    def render(self, name, value, attrs=None, renderer=None):
        options = format_html_join("", '<option value="{}">{}</option>', licences.KNOWN_LICENCES)
        return format_html(
            '{}<datalist id="known-licences">{}</datalist>',
            super().render(name, value, attrs, renderer),
            options,
        )


class ImageAdminForm(KeepsUnchangedTimes, forms.ModelForm):
    file = forms.FileField(
        widget=AdminFileWidget(
            # The "Change:" input of a stored image has no <label>: name it.
            attrs={
                "accept": "image/jpeg,image/png,image/webp,image/avif,image/gif",
                "aria-label": "Image file",
            }
        ),
        help_text="JPEG, PNG, WebP, AVIF or GIF. Credit, caption and copyright are read "
        "from the photo's IPTC or EXIF data when you leave them empty.",
    )

    class Meta:
        model = Image
        fields = [
            "file", "alt_text", "caption", "credit", "source", "license",
            "acquire_license_page", "copyright_notice", "usable_until", "focal_x", "focal_y",
        ]  # fmt: skip
        widgets = {
            "license": LicenceInput(),
            "focal_x": forms.NumberInput(attrs={"step": "0.01", "min": 0, "max": 1}),
            "focal_y": forms.NumberInput(attrs={"step": "0.01", "min": 0, "max": 1}),
            "caption": forms.Textarea(attrs={"rows": 3}),
        }

    checked = None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if "file" not in self.changed_data:
            return upload
        self.checked = images.check_upload(upload)
        stem = make_slug(upload.name.rsplit(".", 1)[0], max_length=80)
        upload.name = f"{stem}.{self.checked.extension}"
        return upload

    def clean(self):
        cleaned = super().clean()
        if self.checked is not None:
            for field, value in self.checked.metadata.items():
                if field in self.fields and not cleaned.get(field):
                    cleaned[field] = value[: Image._meta.get_field(field).max_length or None]
        return cleaned


class ScheduleForm(forms.Form):
    publish_at = forms.SplitDateTimeField(
        label="Publish time", widget=ZonedSplitDateTime, help_text="In the newsroom's time zone."
    )

    def clean_publish_at(self):
        value = self.cleaned_data["publish_at"]
        if value <= timezone.now():
            raise ValidationError("Choose a time in the future.", code="past")
        return value


class MergeTagsForm(forms.Form):
    into = forms.ModelChoiceField(
        queryset=Tag.objects.none(),
        label="Keep this tag",
        widget=forms.RadioSelect,
        empty_label=None,
    )

    def __init__(self, *args, tags, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = tags
