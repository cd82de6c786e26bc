"""The article list's workflow actions: thin calls to articles.services, with a
confirmation page where a mistake would reach readers."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from articles import services
from articles.forms import ScheduleForm


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


def _confirmed_action(name, *, description, service, verb, title, template):
    """An action that shows its confirmation page first, then runs `service` on each."""

    @admin.action(description=description, permissions=["publish"])
    def action(modeladmin, request, queryset):
        if request.POST.get("confirm") != "yes":
            return _confirmation(
                modeladmin,
                request,
                _selection(queryset),
                action=name,
                title=title,
                template=template,
            )
        _run(modeladmin, request, queryset, service, verb)
        return None

    action.__name__ = action.__qualname__ = name  # the admin's name for it in the POST
    return action


publish_now = _confirmed_action(
    "publish_now",
    description="Publish now…",
    service=services.publish_article,
    verb="Published",
    title="Publish these articles now?",
    template="publish_confirmation.html",
)
unpublish = _confirmed_action(
    "unpublish",
    description="Unpublish…",
    service=services.unpublish_article,
    verb="Unpublished",
    title="Take these articles off the site?",
    template="unpublish_confirmation.html",
)


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


@admin.action(description="Submit for review", permissions=["change"])
def submit_for_review(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, services.submit_for_review, "Submitted")
