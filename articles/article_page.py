"""The article page in its parts: meta tags and JSON-LD, breadcrumbs, the article with
its pictures, and the latest and related rails. Public pages and previews share them.

The parts that show only the article (its *own* parts) are rendered once and kept
(`KeptArticlePage`), current under the same rule as its cards (articles/cards.py); the
rails are put together on each render from the other articles' kept cards. Its feed
items (articles/feed_items.py) are kept with them: a row is current for the page and
the feeds at once.
"""

import logging
from datetime import UTC

import django.utils.feedgenerator
import django.utils.xmlutils
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from articles import body, cards, dependencies, feed_items, queries, seo
from articles.models import Article, KeptArticlePage
from articles.richtext import body_image_ids
from newsroom.context_processors import og_locale

log = logging.getLogger(__name__)

OWN_TEMPLATES = {
    "meta": "articles/parts/article_meta.html",
    "breadcrumbs": "articles/parts/article_breadcrumbs.html",
    "article": "articles/parts/article_main.html",
}
RAIL_FORMS = ("related_item", "rail_item")
RAIL_TEMPLATES = {
    "latest": "articles/parts/article_latest.html",
    "related": "articles/parts/article_related.html",
}
# What the own parts' templates include, the modules that draw them and the settings
# they read: a change to any of them is a new version of every kept page.
INCLUDED = (
    "includes/labels.html",
    "includes/byline.html",
    "includes/dateline.html",
    "includes/notes.html",
    "includes/share_links.html",
    "includes/og_image.html",
    "articles/parts/feed_notes.html",
)
MODULES = (
    *cards.MODULES,
    "article_page.py",
    "seo.py",
    "richtext.py",
    "feed_items.py",
    # Django's writers of the feed items: an upgrade that changes their XML redraws them.
    django.utils.feedgenerator.__file__,
    django.utils.xmlutils.__file__,
)
SETTINGS = (
    *cards.SETTINGS,
    "SITE_NAME",
    "SITE_ADDRESS",
    "ORGANIZATION_NAME",
    "ORGANIZATION_LOGO_URL",
    "ORGANIZATION_SAME_AS",
    "SHARE_IMAGE_URL",
)
# What an article page reads of its kept row (feeds read their item: FEED_ITEMS).
KEPT_TEXT = ("meta", "breadcrumbs", "main", "title", "description", "tag_ids", "keys")
KEPT_RAILS = ("rails", "rails_ranked_at")
# The kept column of each kind of feed item.
FEED_ITEMS = {"rss": "rss_item", "atom": "atom_entry"}
# How long a ranking of an article's rails is shown again before it is ranked anew: a
# new story reaches the rails of a page rendered past the cache this much later.
RAILS_RANKED_SECONDS = 60
# In the model's order of fields (Model.from_db takes them so).
ROW_FIELDS = ("id", "slug", "section_id", "publish_at")


def version():
    return cards.fingerprint([*OWN_TEMPLATES.values(), *INCLUDED], MODULES, SETTINGS)


def public_page(slug):
    """(the public article with `slug`, its own parts), or None when there is none.

    One query when its parts are kept: the article's row (only what its address and
    rails need) with them. Else the article is loaded, its parts rendered and kept.
    """
    current = version()
    articles = Article._meta.db_table
    condition, params = cards.current_sql("p", current, article=articles)
    public, public_params = queries.published_sql()
    columns = ", ".join(f"p.{name}" for name in (*KEPT_TEXT, *KEPT_RAILS))
    sql = (
        f"SELECT {', '.join(f'{articles}.{name}' for name in ROW_FIELDS)}, {columns} "
        f"FROM {articles} LEFT JOIN {KeptArticlePage._meta.db_table} p "
        f"ON p.article_id = {articles}.id AND {condition} "
        f"WHERE {articles}.slug = %s AND {public}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, slug, *public_params])
        row = cursor.fetchone()
    if row is None:
        return None
    if row[len(ROW_FIELDS)] is None:  # nothing current is kept
        article = queries.article_for_page(pk=row[0])
        if article is None:
            return None
        return article, {**keep([article], current)[0], "rails": None}
    pk, slug, section_id, publish_at = row[: len(ROW_FIELDS)]
    if timezone.is_naive(publish_at):  # SQLite's raw rows hold UTC without a zone
        publish_at = timezone.make_aware(publish_at, UTC)
    article = Article.from_db(None, ROW_FIELDS, [pk, slug, section_id, publish_at])
    meta, breadcrumbs, main, title, description, tag_ids, keys, rails, ranked_at = row[
        len(ROW_FIELDS) :
    ]
    return article, {
        "meta": mark_safe(meta),
        "breadcrumbs": mark_safe(breadcrumbs),
        "article": mark_safe(main),
        "title": title,
        "description": description,
        "tag_ids": [int(pk) for pk in tag_ids.split()],
        "keys": set(keys.split()),
        "rails": _ranking(rails, ranked_at),
    }


def keep(articles, current, *, images=None):
    """Render the own parts and feed items of complete `articles` and keep them (one
    write); the parts of each, in order. `images`: their pictures, loaded at once (else
    one query each)."""
    owns = [own_parts(article, images=images, feed=True) for article in articles]
    rows = [
        KeptArticlePage(
            article_id=article.pk,
            stamp=article.render_stamp,
            version=current,
            shown_until=own["shown_until"],
            meta=own["meta"],
            breadcrumbs=own["breadcrumbs"],
            main=own["article"],
            title=own["title"],
            description=own["description"],
            tag_ids=" ".join(map(str, own["tag_ids"])),
            rss_item=own["rss_item"],
            atom_entry=own["atom_entry"],
            # No longer read (the items carry it): emptied, for a later release to drop.
            feed_content="",
            # Spaced at both ends, so a picture's pages are found by " i<id> " (cards.py).
            keys=f" {' '.join(sorted(own['keys']))} ",
            # Its tags may have changed: the rails are ranked again.
            rails="",
            rails_ranked_at=None,
        )
        for article, own in zip(articles, owns, strict=True)
    ]
    fields = [
        "stamp",
        "version",
        "shown_until",
        "feed_content",
        *FEED_ITEMS.values(),
        *KEPT_TEXT,
        *KEPT_RAILS,
    ]
    cards.keep(KeptArticlePage, rows, fields)
    return owns


def pictures_of(article):
    return {article.lead_image_id} | set(body_image_ids(article.body))


def render_parts(article):
    """Every part of `article`'s page (complete: queries.article_for_page), rendered now:
    for a preview, which is never kept."""
    return assemble(article, own_parts(article))


def assemble(article, own):
    """The page's parts: its own and the rails, and the page-cache keys of all they show.
    `own["rails"]`: the rails' kept ranking, as `rail_parts` takes it (none: a preview)."""
    own = dict(own)
    rails = rail_parts(article, tag_ids=own["tag_ids"], ranked=own.pop("rails", False))
    return {
        **own,
        **rails,
        "keys": own["keys"] | rails["keys"],
        "canonical_url": seo.absolute(article.get_absolute_url()),
    }


def own_parts(article, *, images=None, feed=False):
    """The parts of the page that show only `article`, with their keys, its tags and the
    day its pictures' rights end; with `feed`, its feed items too (what is kept, never
    a preview). `images`: {id: Image} holding its pictures (else read)."""
    authors = article.ordered_authors
    tags = list(article.tags.all())
    notes = list(article.notes.all())
    wanted = pictures_of(article) - {None}
    images = {
        pk: image for pk, image in (images or body.load_images(wanted)).items() if pk in wanted
    }
    lead_image = images.get(article.lead_image_id)
    if lead_image is not None and not body.is_showable(lead_image):
        lead_image = None
    description = article.seo_description or article.dek or body.plain_excerpt(article.body)
    canonical_url = seo.absolute(article.get_absolute_url())
    context = {
        "site_name": settings.SITE_NAME,
        "og_locale": og_locale(),
        "share_image": seo.share_image(lead_image) if lead_image is not None else None,
        "article": article,
        "authors": authors,
        "tags": tags,
        "notes": notes,
        "lead_image": lead_image,
        "caption": article.lead_image_caption or (lead_image.caption if lead_image else ""),
        "body_html": body.render_body(article.body, images),
        "description": description,
        "canonical_url": canonical_url,
        "json_ld": seo.article_json_ld(
            article,
            authors=authors,
            tags=tags,
            notes=notes,
            lead_image=lead_image,
            description=description,
        ),
        "breadcrumbs": seo.breadcrumbs_json_ld(seo.article_breadcrumbs(article)),
    }
    parts = {name: render_to_string(template, context) for name, template in OWN_TEMPLATES.items()}
    if feed:
        content = feed_content(article, lead_image, notes, images)
        items = feed_items.items_of(article, content=content, lead_image=lead_image)
        parts.update(zip(FEED_ITEMS.values(), items, strict=True))
    ends = [
        image.usable_until
        for image in images.values()
        if image.usable_until is not None and body.is_showable(image)
    ]
    return {
        **parts,
        "title": article.seo_title or article.title,
        "description": description,
        "tag_ids": [tag.pk for tag in tags],
        "shown_until": min(ends, default=None),
        "keys": {
            f"a{article.pk}",
            f"s{article.section_id}",
            *(f"au{author.pk}" for author in authors),
            *(f"t{tag.pk}" for tag in tags),
            *dependencies.of_images(images),
        },
    }


def feed_content(article, lead_image, notes, images):
    """The article as feeds carry it: its picture, body and notes, links absolute."""
    parts = []
    if lead_image is not None:
        # The caption as `article.caption` gives it, from the picture already loaded.
        caption = article.lead_image_caption or lead_image.caption
        parts.append(
            body.figure(lead_image, caption=caption, sizes="100vw", lazy=False, absolute=True)
        )
    parts.append(body.render_body(article.body, images, absolute=True))
    if notes:
        # Corrections and updates travel with the story, as on its page.
        parts.append(render_to_string("articles/parts/feed_notes.html", {"notes": notes}))
    return "".join(str(part) for part in parts)


def kept_feed_items(articles, kind):
    """({pk: item XML}, the page-cache keys they show) of public `articles` (rows holding
    their pk) in a feed of `kind` ("rss" or "atom"): the kept ones in one query; the
    others loaded (their article, bylines, tags and notes: 4 queries; their pictures: 1),
    drawn and kept (one write). A story withdrawn since `articles` were read is left out."""
    if not articles:
        return {}, set()
    current = version()
    column = FEED_ITEMS[kind]
    pks = [article.pk for article in articles]
    rows = cards.read_current(KeptArticlePage, (column, "keys"), pks, current, public_only=True)
    found = {pk: (xml, keys.split()) for pk, xml, keys in rows}
    missing = [pk for pk in pks if pk not in found]
    if missing:
        loaded = queries.articles_for_pages(missing)
        images = body.load_images(set().union(*map(pictures_of, loaded)))
        for article, own in zip(loaded, keep(loaded, current, images=images), strict=True):
            found[article.pk] = (own[column], own["keys"])
    items = {pk: xml for pk, (xml, _) in found.items()}
    # An item shows its article's section, authors and pictures but not its tags (the
    # page's keys include them): a tag's edit need not purge every feed.
    keys = set().union(*(keys for _, keys in found.values()))
    return items, {key for key in keys if not (key[0] == "t" and key[1:].isdigit())}


def rail_parts(article, *, tag_ids, ranked=False):
    """The Related and Latest rails, from the articles' kept cards.

    `ranked`: the rails' last ranking kept with a public page's parts ((related ids,
    latest ids) while it is recent, else None), so a page rendered past the cache reads
    their cards alone; False for a preview, whose ranking is not kept. A story withdrawn
    since is left out and the rails are ranked again.

    The Latest rail is on every article page: it carries neither `list` nor its
    stories' keys, or one publication or one edit of a recent story would rebuild
    every article page. A new story or a changed headline reaches it when the page is
    next rendered (at most CACHE_PAGE_SECONDS, plus RAILS_RANKED_SECONDS past the
    cache, later); a story withdrawn from readers leaves at once (`latest`, purged
    only then).
    """
    shown = None
    if ranked:
        related, latest = ([Article.from_db(None, ["id"], [pk]) for pk in ids] for ids in ranked)
        shown = cards.cards_of([*related, *latest], forms=RAIL_FORMS, public_only=True)
        if len(shown) < len(related) + len(latest):
            shown = None
    if shown is None:
        related = queries.related_articles(article, tag_ids=tag_ids)
        latest = queries.latest_articles(exclude=article)
        shown = cards.cards_of([*related, *latest], forms=RAIL_FORMS)
        if ranked is not False:
            _keep_ranking(article, related, latest)
    related_cards, latest_cards = shown[: len(related)], shown[len(related) :]
    return {
        "related": render_to_string(
            RAIL_TEMPLATES["related"], {"related": [card.related_item for card in related_cards]}
        ),
        "latest": render_to_string(
            RAIL_TEMPLATES["latest"], {"latest": [card.rail_item for card in latest_cards]}
        ),
        "keys": {"latest", *cards.keys_of(related_cards)},
    }


def _ranking(rails, ranked_at):
    """(related ids, latest ids) of a kept ranking still recent, else None."""
    if not rails or ranked_at is None:
        return None
    if timezone.is_naive(ranked_at):  # SQLite's raw rows hold UTC without a zone
        ranked_at = timezone.make_aware(ranked_at, UTC)
    if (timezone.now() - ranked_at).total_seconds() > RAILS_RANKED_SECONDS:
        return None
    related, latest = rails.split("|")
    return [int(pk) for pk in related.split()], [int(pk) for pk in latest.split()]


def _keep_ranking(article, related, latest):
    """Keep the rails' ranking with the page's parts; a failed write (a read-only
    replica) only means they are ranked again next time."""
    ids = (" ".join(str(row.pk) for row in rows) for rows in (related, latest))
    try:
        with transaction.atomic():
            KeptArticlePage.objects.filter(article_id=article.pk).update(
                rails="|".join(ids), rails_ranked_at=timezone.now()
            )
    except DatabaseError:
        log.warning("Could not keep the rails of article %s", article.pk, exc_info=True)
