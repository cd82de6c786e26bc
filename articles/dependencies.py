"""What each public page shows, as page-cache keys (newsroom/pagecache), and the
schedule that makes scheduled articles and front-page expiries appear on time.

`a<pk>` is carried by every page that shows the article (its own page, each card, feed
item, rail entry), so purging it reaches them all. The `list…` keys are carried by the
pages a newly public article could join: purging them is how an article appears.
"""

from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from articles.compiled import Compiled
from articles.models import Article, FrontPageStory

LISTS_OF_EVERYTHING = ("list", "sitemap")


def of_card(article):
    """A teaser card, feed item or search result: the article, its section, bylines
    and picture (bylines as prefetched by `for_listing`)."""
    keys = {f"a{article.pk}", f"s{article.section_id}"}
    if article.lead_image_id:
        keys.add(f"i{article.lead_image_id}")
    keys.update(f"au{byline.author_id}" for byline in article.bylines.all())
    return keys


def of_cards(articles):
    return set().union(*(of_card(article) for article in articles))


def of_images(image_ids):
    return {f"i{pk}" for pk in image_ids if pk}


def lists_joined(article, *, author_ids=(), tag_ids=()):
    """The lists a public `article` shows in: purged when it appears or leaves."""
    return {
        *LISTS_OF_EVERYTHING,
        f"list:s{article.section_id}",
        *(f"list:au{pk}" for pk in author_ids),
        *(f"list:t{pk}" for pk in tag_ids),
    }


def lists_of(article):
    """`lists_joined` with the authors and tags read from the database."""
    return lists_joined(
        article,
        author_ids=article.bylines.values_list("author_id", flat=True),
        tag_ids=article.tags.values_list("pk", flat=True),
    )


def _moment(timestamp):
    return datetime.fromtimestamp(timestamp, tz=UTC)


class Schedule:
    """Scheduled publications and front-page expiries, for newsroom.pagecache.store."""

    def came_due(self, since, until):
        keys = set()
        window = {"publish_at__gt": _moment(since), "publish_at__lte": _moment(until)}
        for article in Article.objects.published(now=_moment(until)).filter(**window):
            keys |= {f"a{article.pk}", *lists_of(article)}
        expired = FrontPageStory.objects.filter(
            expires_at__gt=_moment(since), expires_at__lte=_moment(until)
        )
        if expired.exists():
            keys.add("home")
        return keys

    def next_after(self, moment):
        """The next scheduled publication or front-page expiry, in one query (a listing
        past every cache asks it on each request)."""
        now = _moment(moment)
        (first, first_params), (second, second_params) = (
            NEXT_PUBLICATION.sql(now=now),
            NEXT_EXPIRY.sql(now=now),
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT ({first}), ({second})", [*first_params, *second_params])
            found = cursor.fetchone()
        moments = [_aware(value).timestamp() for value in found if value is not None]
        return min(moments, default=None)


NEXT_PUBLICATION = Compiled(
    lambda now: (
        Article.objects.filter(status__in=Article.PUBLIC_STATUSES, publish_at__gt=now)
        .order_by("publish_at")
        .values("publish_at")[:1]
    )
)
NEXT_EXPIRY = Compiled(
    lambda now: (
        FrontPageStory.objects.filter(expires_at__gt=now)
        .order_by("expires_at")
        .values("expires_at")[:1]
    )
)


def _aware(value):
    """A time from a raw row: SQLite's come as text or naive, in UTC."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)
