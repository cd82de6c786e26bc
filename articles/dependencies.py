"""What each public page shows, as page-cache keys (newsroom/pagecache), and the
schedule that makes scheduled articles and front-page expiries appear on time.

`a<pk>` is carried by every page that shows the article (its own page, each card, feed
item, rail entry), so purging it reaches them all. The `list…` keys are carried by the
pages a newly public article could join: purging them is how an article appears.
"""

from datetime import UTC, datetime

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
    """Scheduled publications and front-page expiries, for newsroom.pagecache.schedule."""

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
        now = _moment(moment)
        publication = (
            Article.objects.filter(status__in=Article.PUBLIC_STATUSES, publish_at__gt=now)
            .order_by("publish_at")
            .values_list("publish_at", flat=True)
            .first()
        )
        expiry = (
            FrontPageStory.objects.filter(expires_at__gt=now)
            .order_by("expires_at")
            .values_list("expires_at", flat=True)
            .first()
        )
        moments = [found.timestamp() for found in (publication, expiry) if found is not None]
        return min(moments, default=None)
