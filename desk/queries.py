"""What the desk shows: the newsroom's work in progress, read in a fixed number of queries.

The desk reads the content app and the newsletter app and owns neither; nothing imports
it but its template tag.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.tasks.exceptions import InvalidTask
from django.utils import timezone

from articles import services
from articles.models import Article, Note
from newsletter.models import Issue

SCHEDULED_WINDOW = timedelta(hours=48)
CORRECTIONS_WINDOW = timedelta(days=7)
ROWS = 10


@dataclass
class Desk:
    my_drafts: list = field(default_factory=list)
    in_review: list = field(default_factory=list)
    scheduled: list = field(default_factory=list)
    published_today: list = field(default_factory=list)
    corrections: list = field(default_factory=list)
    roundup: dict | None = None
    can_publish: bool = False


def has_editorial_role(user):
    """Writers, editors and newsletter editors get the desk; other staff the plain index."""
    return user.is_active and (
        user.has_perm("articles.change_article") or user.has_perm("newsletter.change_issue")
    )


def _rows(queryset):
    return list(queryset.select_related("section").defer("body")[:ROWS])


def desk_for(user, *, now=None):
    now = now or timezone.now()
    desk = Desk(can_publish=services.can_publish(user))
    if user.has_perm("articles.view_article") or user.has_perm("articles.change_article"):
        # The admin's and preview's one rule: a contributor's desk lists only their own.
        articles = Article.objects.visible_to_staff(user)
        desk.my_drafts = _rows(
            articles.owned_by(user).filter(status=Article.Status.DRAFT).order_by("-modified_at")
        )
        desk.in_review = _rows(
            articles.filter(status=Article.Status.REVIEW).order_by("modified_at")
        )
        desk.scheduled = _rows(
            articles.filter(
                status=Article.Status.SCHEDULED,
                publish_at__gt=now,
                publish_at__lte=now + SCHEDULED_WINDOW,
            ).order_by("publish_at")
        )
        start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        desk.published_today = _rows(
            articles.published(now=now).filter(publish_at__gte=start_of_day).newest_first()
        )
        # Corrections as readers see them: only those on articles public now (a note on
        # a draft, a withdrawn or a not-yet-due article is shown to nobody, so it is not
        # news to the desk), and only on articles this person may open.
        desk.corrections = list(
            Note.objects.filter(
                kind=Note.Kind.CORRECTION,
                created_at__gte=now - CORRECTIONS_WINDOW,
                article__in=articles.published(now=now).values("pk"),
            )
            .select_related("article")
            .order_by("-created_at", "-pk")[:ROWS]
        )
    if user.has_perm("newsletter.view_issue"):
        desk.roundup = next_roundup(now=now)
    return desk


def next_roundup(*, now):
    """The round-up being prepared or sent, else the last one sent, and when the next is drafted."""
    issue = Issue.objects.exclude(status=Issue.Status.SENT).order_by("-created_at", "-pk").first()
    last_sent = None
    if issue is None:
        last_sent = Issue.objects.filter(status=Issue.Status.SENT).order_by("-sent_at").first()
    progress = (
        issue.progress() if issue is not None and issue.status == Issue.Status.SENDING else None
    )
    try:
        # The task module declares its tasks on import, which a task backend without the
        # newsletter's queues refuses: the desk then shows no next draft time.
        from newsletter.tasks import next_draft_at

        next_draft = next_draft_at(now)
    except InvalidTask:
        next_draft = None
    return {
        "issue": issue,
        "article_count": issue.items.count() if issue is not None else 0,
        "progress": progress,
        "last_sent": last_sent,
        "next_draft_at": next_draft,
    }
