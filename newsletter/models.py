import datetime
import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import models
from django.db.models import Count, Q
from django.db.models.functions import Lower, TruncWeek
from django.db.models.lookups import Exact, StartsWith
from django.urls import reverse
from django.utils import timezone

from articles.models import Article

EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a path, and the column's width


def normalize_email(value):
    """Trim the address and lower-case its domain; the local part is the owner's business.

    The unique constraint is case-insensitive on the whole address, so "Ann@x.org" and
    "ann@X.org" are still one subscriber. Unicode is put in NFC (RFC 6532): "zoë" typed
    as "e" plus a combining diaeresis is the same address as "zoë".
    """
    value = unicodedata.normalize("NFC", (value or "").strip())
    local, at, domain = value.rpartition("@")
    if not at:
        return value
    return f"{local}@{domain.lower()}"


class SubscriberEmailValidator(EmailValidator):
    """Django's address check, but with RFC 6531 local parts: "zoë@example.com" is valid.

    Django accepts internationalised domains but only ASCII before the "@". Mail servers
    that speak SMTPUTF8 (Postfix, Exim, Gmail, Microsoft 365 …) deliver such addresses,
    so we store them; see the README for what happens when the relay cannot.
    """

    _atext = r"[-!#$%&'*+/=?^_`{}|~0-9A-Z\u0080-\U0010ffff]"
    user_regex = re.compile(
        rf"(^{_atext}+(\.{_atext}+)*\Z"
        r'|^"([\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])*"\Z)',
        re.IGNORECASE,
    )

    def __call__(self, value):
        super().__call__(value)
        value = str(value)
        if not value.isascii() and any("\ud800" <= char <= "\udfff" for char in value):
            raise ValidationError(self.message, code=self.code, params={"value": value})
        local = value.rpartition("@")[0]
        # Invisible, spacing and unpaired-surrogate characters first: they cannot be encoded.
        if (
            any(not char.isascii() and (char.isspace() or not char.isprintable()) for char in local)
            or len(local.encode("utf-8")) > 64
        ):
            raise ValidationError(self.message, code=self.code, params={"value": value})
        if len(str(value)) > EMAIL_MAX_LENGTH:
            raise ValidationError(self.message, code=self.code, params={"value": value})


validate_subscriber_email = SubscriberEmailValidator()


class SubscriberEmailFormField(forms.EmailField):
    default_validators = [validate_subscriber_email]

    def __init__(self, **kwargs):
        # A text box: browsers' type="email" refuses non-ASCII before the "@".
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"inputmode": "email", "autocomplete": "email", "spellcheck": "false"}
            ),
        )
        super().__init__(**kwargs)


class SubscriberEmailField(models.EmailField):
    """An EmailField that takes internationalised local parts."""

    default_validators = [validate_subscriber_email]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": SubscriberEmailFormField, **kwargs})


class SubscriberQuerySet(models.QuerySet):
    def active(self):
        """Who gets the round-up: confirmed, still here, and not suppressed."""
        return self.filter(status=Subscriber.Status.ACTIVE, is_suppressed=False)

    def with_email(self, email):
        return self.filter(email__iexact=normalize_email(email))

    def search_email(self, term):
        """The whole address when the term has an "@", else addresses starting with it.

        Case-insensitive, and written as LOWER(email) = … / LIKE '…%' so that PostgreSQL
        answers from the unique index or the prefix index (migration 0003) instead of
        scanning every row for a substring.
        """
        term = (term or "").strip()
        if "@" in term:
            return self.filter(Exact(Lower("email"), normalize_email(term).lower()))
        return self.filter(StartsWith(Lower("email"), term.lower()))

    def stale_pending(self, *, days, now=None):
        """Pending subscribers who never confirmed within `days`: they are purged."""
        cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
        return self.filter(status=Subscriber.Status.PENDING, signed_up_at__lt=cutoff)

    def counts_by_status(self):
        counts = dict(self.order_by().values_list("status").annotate(n=Count("pk")))
        return {status: counts.get(status, 0) for status in Subscriber.Status.values}

    def weekly_activity(self, *, weeks=12, now=None):
        """Signups, confirmations and unsubscribes per week, oldest week first.

        Three grouped queries whatever the number of subscribers.
        """
        now = now or timezone.now()
        today = timezone.localdate(now)
        this_monday = today - datetime.timedelta(days=today.weekday())
        first = this_monday - datetime.timedelta(weeks=weeks - 1)
        since = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
        series = {}
        for name, field in (
            ("signups", "signed_up_at"),
            ("confirmations", "confirmed_at"),
            ("unsubscribes", "unsubscribed_at"),
        ):
            rows = (
                self.order_by()
                .filter(**{f"{field}__gte": since})
                .annotate(week=TruncWeek(field))
                .values("week")
                .annotate(n=Count("pk"))
                .values_list("week", "n")
            )
            series[name] = {_as_date(week): n for week, n in rows}
        return [
            {
                "week": week,
                "signups": series["signups"].get(week, 0),
                "confirmations": series["confirmations"].get(week, 0),
                "unsubscribes": series["unsubscribes"].get(week, 0),
            }
            for week in (first + datetime.timedelta(weeks=i) for i in range(weeks))
        ]


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending confirmation"
        ACTIVE = "active", "Active"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounced"

    email = SubscriberEmailField(max_length=EMAIL_MAX_LENGTH)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    is_suppressed = models.BooleanField(
        "suppressed",
        default=False,
        help_text="Never email this address again, whatever its status (a complaint, or "
        "an editor's decision). Signing up again sends nothing.",
    )
    bounced_at = models.DateTimeField(null=True, blank=True)
    signed_up_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    consent_source = models.CharField(
        max_length=500,
        blank=True,
        help_text="Where the subscriber gave consent (page URL or import).",
    )
    confirmed_ip = models.GenericIPAddressField(
        null=True, blank=True, help_text="The address the confirmation came from: proof of consent."
    )

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_up_at", "-pk"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="unique_subscriber_email_ci"),
        ]
        indexes = [
            models.Index(fields=["status", "-signed_up_at"], name="subscriber_status_idx"),
            # The admin list's order and the weekly chart's sign-up range.
            models.Index(fields=["-signed_up_at", "-id"], name="subscriber_signed_up_idx"),
            # The chart's confirmations and unsubscribes: most rows have none, so partial.
            models.Index(
                fields=["confirmed_at"],
                name="subscriber_confirmed_idx",
                condition=Q(confirmed_at__isnull=False),
            ),
            models.Index(
                fields=["unsubscribed_at"],
                name="subscriber_unsubscribed_idx",
                condition=Q(unsubscribed_at__isnull=False),
            ),
        ]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("admin:newsletter_subscriber_change", args=[self.pk])

    @property
    def is_active(self):
        return self.status == self.Status.ACTIVE


class Issue(models.Model):
    """One round-up: a subject, an editor's intro and an ordered list of articles."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"
        SENT = "sent", "Sent"

    subject = models.CharField(max_length=200)
    intro = models.TextField(blank=True, help_text="The editor's note at the top of the email.")
    articles = models.ManyToManyField(Article, through="IssueArticle", related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    mail_server_down_since = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Set while sending workers cannot reach the mail server; cleared when they can.",
    )
    mail_server_error = models.TextField(blank=True, editable=False)
    week_of = models.DateField(
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text="The Monday of the week a drafted round-up covers; one draft per week.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    send_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("send_issue", "Can send a round-up to all subscribers")]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("admin:newsletter_issue_change", args=[self.pk])

    @property
    def is_draft(self):
        return self.status == self.Status.DRAFT

    def ordered_articles(self):
        """The issue's public articles in the editor's order, with what a teaser needs.

        An article unpublished after it was picked drops out of the email.
        """
        items = self.items.values_list("article_id", "position")
        order = dict(items)
        articles = Article.objects.published().for_listing().filter(pk__in=order)
        return sorted(articles, key=lambda article: (order[article.pk], article.pk))

    def progress(self):
        """Delivery totals: one grouped query."""
        counts = dict(self.deliveries.order_by().values_list("status").annotate(n=Count("pk")))
        sent = counts.get(Delivery.Status.SENT, 0)
        failed = counts.get(Delivery.Status.FAILED, 0)
        skipped = counts.get(Delivery.Status.SKIPPED, 0)
        cancelled = counts.get(Delivery.Status.CANCELLED, 0)
        remaining = counts.get(Delivery.Status.QUEUED, 0)
        total = sent + failed + skipped + cancelled + remaining
        return {
            "total": total,
            "sent": sent,
            "failed": failed,
            "skipped": skipped,
            "cancelled": cancelled,
            "remaining": remaining,
            "done": total - remaining,
            "percent": 100 * (total - remaining) // total if total else 0,
        }


class IssueArticle(models.Model):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="items")
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["issue", "article"], name="unique_issue_article"),
        ]

    def __str__(self):
        return f"{self.article} in {self.issue}"

    def get_absolute_url(self):
        return self.article.get_absolute_url()


class DeliveryQuerySet(models.QuerySet):
    def due(self, *, now=None):
        """Queued, not held by a live claim, and past any retry back-off."""
        now = now or timezone.now()
        return self.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            status=Delivery.Status.QUEUED,
        )


class Delivery(models.Model):
    """One issue to one subscriber: the row that makes sending exactly-once.

    The states and their order are the protocol of newsletter/sending/__init__.py.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped: no longer subscribed"
        CANCELLED = "cancelled", "Cancelled with the send"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker's lease on this row; others wait until it ends."
    )
    claimed_by = models.CharField(
        max_length=64,
        blank=True,
        help_text="The lease's token: new at every claim, so a worker that lost its lease "
        "can no longer write to the row (a fencing token).",
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["issue", "pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["issue", "subscriber"], name="unique_delivery"),
        ]
        indexes = [models.Index(fields=["issue", "status"], name="delivery_issue_status_idx")]

    def __str__(self):
        return f"{self.issue} to {self.subscriber}"

    def get_absolute_url(self):
        return self.issue.get_absolute_url()


class BounceEvent(models.Model):
    """Something the mail system told us about a subscriber after we sent: the history
    behind a bounced, unsubscribed or suppressed status."""

    class Kind(models.TextChoices):
        HARD = "hard", "Hard bounce"
        SOFT = "soft", "Soft bounce"
        COMPLAINT = "complaint", "Complaint (marked as spam)"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribed by email"

    class Source(models.TextChoices):
        MAILBOX = "mailbox", "Bounce mailbox"
        PIPE = "pipe", "MTA pipe"
        SES = "ses", "Amazon SES"
        POSTMARK = "postmark", "Postmark"
        MAILGUN = "mailgun", "Mailgun"
        SENDGRID = "sendgrid", "SendGrid"
        SMTP = "smtp", "Refused while sending"

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="bounce_events"
    )
    delivery = models.ForeignKey(
        "Delivery",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bounce_events",
        help_text="The round-up copy it is about, when known.",
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    status_code = models.CharField(
        max_length=16, blank=True, help_text="The enhanced status code (RFC 3463), e.g. 5.1.1."
    )
    diagnostic = models.TextField(blank=True, help_text="What the receiving server said.")
    reference = models.CharField(
        max_length=255,
        blank=True,
        help_text="The report's Message-ID or the provider's event id: the same report "
        "read twice counts once.",
    )
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "reference", "subscriber"],
                condition=~Q(reference=""),
                name="unique_bounce_event_reference",
            ),
        ]
        indexes = [
            models.Index(fields=["subscriber", "-received_at"], name="bounce_event_subscriber_idx")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.subscriber}"

    def get_absolute_url(self):
        return self.subscriber.get_absolute_url()
