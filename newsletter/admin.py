import csv

from django.contrib import admin, messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from newsletter import services
from newsletter.charts import weekly_chart
from newsletter.emails import render_roundup
from newsletter.forms import ImportForm, IssueSendForm
from newsletter.models import BounceEvent, Delivery, Issue, IssueArticle, Subscriber
from newsroom.paginators import EstimatedCountPaginator

STATS_CACHE_KEY = "newsletter:admin:subscriber-stats"
STATS_CACHE_SECONDS = 60


def subscriber_stats():
    """Counts by status and the weekly chart's rows, cached for a minute.

    Both read every subscriber (a million at a large publication): an editor paging
    through the list should not pay for them on each page, and a minute-old figure is
    as good as a fresh one here.
    """
    return cache.get_or_set(
        STATS_CACHE_KEY,
        lambda: {
            "counts": Subscriber.objects.counts_by_status(),
            "weekly": Subscriber.objects.weekly_activity(),
        },
        STATS_CACHE_SECONDS,
    )


class _Echo:
    def write(self, value):
        return value


class BounceEventInline(admin.TabularInline):
    """The subscriber's bounce history: read-only, newest first."""

    model = BounceEvent
    fields = ["received_at", "kind", "source", "status_code", "diagnostic", "issue"]
    readonly_fields = fields
    ordering = ["-received_at", "-pk"]
    extra = 0
    can_delete = False
    verbose_name = "bounce or complaint"
    verbose_name_plural = "bounce history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("subscriber", "delivery__issue")

    @admin.display(description="Round-up")
    def issue(self, event):
        return event.delivery.issue if event.delivery else "—"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "status",
        "is_suppressed",
        "signed_up_at",
        "confirmed_at",
        "unsubscribed_at",
    ]
    list_filter = ["status", "is_suppressed", "signed_up_at", "confirmed_at"]
    actions = ["suppress", "unsuppress"]
    inlines = [BounceEventInline]
    search_fields = ["email"]  # shows the search box; get_search_results() does the work
    # No date_hierarchy: its DISTINCT DATE_TRUNC reads every row. The signed_up_at
    # filter offers the date ranges instead.
    readonly_fields = [
        "signed_up_at",
        "confirmed_at",
        "unsubscribed_at",
        "bounced_at",
        "confirmed_ip",
        "consent_source",
    ]
    fields = ["email", "status", "is_suppressed", *readonly_fields]
    change_list_template = "newsletter/admin/subscriber_change_list.html"
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 100

    @admin.action(
        description="Suppress: never email the selected addresses", permissions=["change"]
    )
    def suppress(self, request, queryset):
        count = self._set_suppressed(request, queryset, True)
        messages.success(request, f"{count} addresses suppressed: they get no email of any kind.")

    @admin.action(description="Unsuppress the selected addresses", permissions=["change"])
    def unsuppress(self, request, queryset):
        count = self._set_suppressed(request, queryset, False)
        messages.success(
            request,
            f"{count} addresses unsuppressed. Their status is unchanged: an unsubscribed or "
            "bounced address gets mail again only after it signs up and confirms.",
        )

    def _set_suppressed(self, request, queryset, value):
        changed = list(queryset.exclude(is_suppressed=value))
        Subscriber.objects.filter(pk__in=[s.pk for s in changed]).update(is_suppressed=value)
        message = "Suppressed." if value else "Unsuppressed."
        for subscriber in changed:
            self.log_change(request, subscriber, message)
        cache.delete(STATS_CACHE_KEY)
        return len(changed)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("export/", wrap(self.export_view), name="newsletter_subscriber_export"),
            path("import/", wrap(self.import_view), name="newsletter_subscriber_import"),
            *super().get_urls(),
        ]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.search_email(search_term), False

    def changelist_view(self, request, extra_context=None):
        stats = subscriber_stats()
        counts = stats["counts"]
        extra_context = {
            **(extra_context or {}),
            "status_counts": [
                {"value": value, "label": label, "count": counts[value]}
                for value, label in Subscriber.Status.choices
            ],
            "status_total": sum(counts.values()),
            "chart": weekly_chart(stats["weekly"]),
        }
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        """The changelist's current selection (filters and search) as CSV, streamed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        queryset = self.get_changelist_instance(request).get_queryset(request)
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in services.export_rows(queryset)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="subscribers-{timezone.localdate():%Y-%m-%d}.csv"'
        )
        return response

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        report = None
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                report = services.import_subscribers(
                    file=form.cleaned_data["file"].file, source=form.cleaned_data["source"]
                )
            except ValidationError as error:
                form.add_error("file", error)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import subscribers",
            "form": form,
            "report": report,
        }
        return TemplateResponse(request, "newsletter/admin/subscriber_import.html", context)


class IssueArticleInline(admin.TabularInline):
    model = IssueArticle
    fields = ["position", "article"]
    raw_id_fields = ["article"]
    extra = 0
    ordering = ["position", "pk"]

    def _editable(self, obj):
        return obj is None or obj.is_draft

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["subject", "status", "article_count", "created_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["subject"]
    inlines = [IssueArticleInline]
    fields = ["subject", "intro", "status", "week_of", "send_started_at", "sent_at"]
    readonly_fields = ["status", "week_of", "send_started_at", "sent_at"]
    change_form_template = "newsletter/admin/issue_change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(article_total=Count("items"))

    @admin.display(description="Articles", ordering="article_total")
    def article_count(self, issue):
        return issue.article_total

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_draft:
            return self.fields  # a sent issue is a record: nobody edits it
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return (obj is None or obj.is_draft) and super().has_delete_permission(request, obj)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/preview/<str:kind>/",
                wrap(self.preview_view),
                name="newsletter_issue_preview",
            ),
            path(
                "<int:pk>/send-test/", wrap(self.send_test_view), name="newsletter_issue_send_test"
            ),
            path("<int:pk>/send/", wrap(self.send_view), name="newsletter_issue_send"),
            path("<int:pk>/progress/", wrap(self.progress_view), name="newsletter_issue_progress"),
            path(
                "<int:pk>/<str:action>-sending/",
                wrap(self.control_view),
                name="newsletter_issue_control",
            ),
            *super().get_urls(),
        ]

    def _issue(self, request, pk, *, permission="view"):
        issue = get_object_or_404(Issue, pk=pk)
        allowed = {
            "view": self.has_view_permission,
            "change": self.has_change_permission,
            "send": lambda request, obj: request.user.has_perm("newsletter.send_issue"),
        }[permission](request, issue)
        if not allowed:
            raise PermissionDenied
        return issue

    def preview_view(self, request, pk, kind):
        issue = self._issue(request, pk)
        text, html = render_roundup(issue, unsubscribe_url="#unsubscribe-link")
        if kind == "text":
            return HttpResponse(text, content_type="text/plain; charset=utf-8")
        if kind == "html":
            return HttpResponse(html)
        raise PermissionDenied

    def send_test_view(self, request, pk):
        issue = self._issue(request, pk, permission="change")
        if request.method != "POST":
            return redirect("admin:newsletter_issue_change", issue.pk)
        if not request.user.email:
            messages.error(request, "Your account has no email address to send a test to.")
        else:
            services.send_test(issue=issue, to=request.user.email)
            messages.success(request, f"A test of “{issue}” is on its way to {request.user.email}.")
        return redirect("admin:newsletter_issue_change", issue.pk)

    def send_view(self, request, pk):
        issue = self._issue(request, pk, permission="send")
        if not issue.is_draft:
            messages.info(request, f"“{issue}” has been sent already; it is sent once only.")
            return redirect("admin:newsletter_issue_progress", issue.pk)
        article_count = len(issue.ordered_articles())
        form = IssueSendForm(request.POST or None)
        if request.method == "POST" and form.is_valid() and article_count:
            if services.start_sending(issue=issue):
                messages.success(request, f"Sending “{issue}” to every active subscriber.")
            return redirect("admin:newsletter_issue_progress", issue.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Send {issue}",
            "issue": issue,
            "form": form,
            "article_count": article_count,
            "active_count": Subscriber.objects.active().count(),
        }
        return TemplateResponse(request, "newsletter/admin/issue_send.html", context)

    def control_view(self, request, pk, action):
        """Pause, resume or cancel a send (POST only, with the send permission)."""
        issue = self._issue(request, pk, permission="send")
        controls = {
            "pause": (services.pause_sending, "Paused “{}”: workers stop within seconds."),
            "resume": (services.resume_sending, "Resumed “{}”."),
            "cancel": (services.cancel_sending, "Cancelled “{}”: nothing more goes out."),
        }
        if action not in controls:
            raise PermissionDenied
        if request.method == "POST":
            control, done = controls[action]
            if control(issue=issue):
                messages.success(request, done.format(issue))
            else:
                messages.info(request, f"“{issue}” is {issue.get_status_display().lower()}.")
        return redirect("admin:newsletter_issue_progress", issue.pk)

    def progress_view(self, request, pk):
        from newsletter.sending.ledger import explain

        issue = self._issue(request, pk)
        failures = (
            issue.deliveries.filter(status=Delivery.Status.FAILED)
            .select_related("subscriber")
            .order_by("pk")[:50]
        )
        progress = issue.progress()
        if not progress["total"] and issue.status == Issue.Status.SENDING:
            # Just after Send the rows are not created yet: show who will get it, not 0/0.
            progress["total"] = progress["remaining"] = Subscriber.objects.active().count()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Progress of {issue}",
            "issue": issue,
            "progress": progress,
            "failures": failures,
            "explanations": explain(issue),
            "can_control": request.user.has_perm("newsletter.send_issue"),
        }
        return TemplateResponse(request, "newsletter/admin/issue_progress.html", context)

    def view_on_site(self, obj):
        return reverse("admin:newsletter_issue_preview", args=[obj.pk, "html"])


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["subscriber", "issue", "status", "attempts", "sent_at", "error"]
    list_filter = ["status", "issue"]
    search_fields = ["subscriber__email"]
    list_select_related = ["subscriber", "issue"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BounceEvent)
class BounceEventAdmin(admin.ModelAdmin):
    """Every bounce, complaint and emailed unsubscribe, for the whole list."""

    list_display = ["received_at", "subscriber", "kind", "source", "status_code", "diagnostic"]
    list_filter = ["kind", "source", "received_at"]
    search_fields = ["subscriber__email"]
    list_select_related = ["subscriber"]
    readonly_fields = [f.name for f in BounceEvent._meta.fields]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(subscriber__in=Subscriber.objects.search_email(search_term)), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
