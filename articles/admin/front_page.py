"""The front page in the admin: one screen to choose, order (drag, or number) and preview
the lead and featured stories."""

from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.forms import modelformset_factory
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from articles import services
from articles.models import Article, FrontPageStory

EMPTY_ROWS = 2


class FrontPageStoryForm(forms.ModelForm):
    class Meta:
        model = FrontPageStory
        fields = ["article", "position", "expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A row without an article is an empty slot (or a story taken off): not an error.
        self.fields["article"].required = False

    def clean_article(self):
        article = self.cleaned_data["article"]
        if article is not None and not article.is_public_status:
            raise forms.ValidationError(
                "Only a published or scheduled article can go on the front page.",
                code="not_public",
            )
        return article


class BaseFrontPageFormSet(forms.BaseModelFormSet):
    def ordered_entries(self):
        """(article, expires_at) of the kept rows, in the order their positions give."""
        rows = [
            (form.cleaned_data.get("position") or 0, index, form.cleaned_data)
            for index, form in enumerate(self.forms)
            if form.cleaned_data.get("article") and not form.cleaned_data.get("DELETE")
        ]
        rows.sort(key=lambda row: (row[0], row[1]))
        return [(data["article"], data.get("expires_at")) for _, _, data in rows]


@admin.register(FrontPageStory)
class FrontPageAdmin(admin.ModelAdmin):
    """The changelist is the front-page screen; there is no per-story form."""

    autocomplete_fields = ["article"]

    class Media:
        css = {"all": ["css/admin.css"]}
        js = ["js/admin/front-page.js", "js/admin/autocomplete-names.js"]

    def has_module_permission(self, request):
        return services.can_publish(request.user)

    def has_view_permission(self, request, obj=None):
        return services.can_publish(request.user)

    def has_change_permission(self, request, obj=None):
        return services.can_publish(request.user)

    has_add_permission = has_delete_permission = has_change_permission

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        to_screen = self.admin_site.admin_view(self.to_front_page_view)
        return [
            path("", self.admin_site.admin_view(self.front_page_view), name=f"{name}_changelist"),
            # Links to one story (the admin log, "add" buttons) open the screen.
            path("add/", to_screen, name=f"{name}_add"),
            path("<path:object_id>/change/", to_screen, name=f"{name}_change"),
        ]

    def to_front_page_view(self, request, object_id=None):
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        )

    def formset_class(self, request):
        limit = 1 + settings.FRONT_PAGE_FEATURED
        stored = FrontPageStory.objects.count()
        return modelformset_factory(
            FrontPageStory,
            form=FrontPageStoryForm,
            formset=BaseFrontPageFormSet,
            formfield_callback=partial(self.formfield_for_dbfield, request=request),
            extra=max(0, min(EMPTY_ROWS, limit - stored)),
            max_num=limit,
            validate_max=True,
            can_delete=True,
        )

    def front_page_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        FormSet = self.formset_class(request)
        queryset = FrontPageStory.objects.select_related("article").order_by("position", "pk")
        preview = None
        if request.method == "POST":
            formset = FormSet(request.POST, queryset=queryset)
            if formset.is_valid():
                entries = formset.ordered_entries()
                if "_preview" in request.POST:
                    preview = self.preview(entries)
                else:
                    services.arrange_front_page(entries=entries, by=request.user)
                    self.message_user(
                        request,
                        "The front page is updated; readers see it now.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(request.path)
        else:
            formset = FormSet(queryset=queryset)
        if preview is None:
            preview = self.preview([(story.article, story.expires_at) for story in queryset])
        context = {
            **self.admin_site.each_context(request),
            "title": "Front page",
            "subtitle": None,
            "opts": self.opts,
            "formset": formset,
            "preview": preview,
            "is_preview": request.method == "POST" and "_preview" in request.POST,
            "featured_limit": settings.FRONT_PAGE_FEATURED,
            "media": self.media + formset.media,
            "site_url": reverse("articles:latest"),
        }
        return TemplateResponse(request, "admin/articles/frontpagestory/front_page.html", context)

    def preview(self, entries, *, now=None):
        """What readers will see: the chosen stories that are live, then the stream."""
        now = now or timezone.now()
        public = set(
            Article.objects.published(now=now)
            .filter(pk__in=[article.pk for article, _ in entries])
            .values_list("pk", flat=True)
        )
        chosen, waiting = [], []
        for article, expires_at in entries:
            live = article.pk in public and (expires_at is None or expires_at > now)
            (chosen if live else waiting).append({"article": article, "expires_at": expires_at})
        chosen = chosen[: 1 + settings.FRONT_PAGE_FEATURED]
        stream = list(
            Article.objects.published(now=now)
            .exclude(pk__in=[item["article"].pk for item in chosen])
            .select_related("section")
            .newest_first()
            .defer("body")[:5]
        )
        return {
            "lead": chosen[0] if chosen else None,
            "featured": chosen[1:],
            "waiting": waiting,
            "stream": stream,
            "lead_is_newest": not chosen,
        }


@admin.action(description="Put on the front page as the lead", permissions=["publish"])
def put_on_front_page_as_lead(modeladmin, request, queryset):
    article = queryset.filter(Q(status="published") | Q(status="scheduled")).first()
    if article is None or queryset.count() != 1:
        modeladmin.message_user(
            request, "Select one published or scheduled article.", messages.WARNING
        )
        return None
    services.put_on_front_page(article=article, by=request.user, as_lead=True)
    url = reverse("admin:articles_frontpagestory_changelist")
    modeladmin.message_user(
        request,
        format_html(
            '“{}” is now the lead story. <a href="{}">Arrange the front page</a>', article, url
        ),
    )
    return None
