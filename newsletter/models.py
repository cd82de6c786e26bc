from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from articles.models import Article


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending confirmation"
        ACTIVE = "active", "Active"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounced"

    email = models.EmailField(max_length=254)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    signed_up_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    consent_source = models.CharField(
        max_length=500,
        blank=True,
        help_text="Where the subscriber gave consent (page URL or import).",
    )
    confirmed_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_up_at", "-pk"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="unique_subscriber_email_ci"),
        ]
        indexes = [
            models.Index(fields=["status", "-signed_up_at"], name="subscriber_status_idx"),
        ]

    def __str__(self):
        return self.email

    def get_absolute_url(self):
        return reverse("admin:newsletter_subscriber_change", args=[self.pk])


class Issue(models.Model):
    """One round-up: a subject, an editor's intro and an ordered list of articles."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"

    subject = models.CharField(max_length=200)
    intro = models.TextField(blank=True, help_text="The editor's note at the top of the email.")
    articles = models.ManyToManyField(Article, through="IssueArticle", related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    send_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("admin:newsletter_issue_change", args=[self.pk])


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


class Delivery(models.Model):
    """One issue to one subscriber: the row that makes sending exactly-once."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

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

    @property
    def is_done(self):
        return self.status in (self.Status.SENT, self.Status.FAILED)
