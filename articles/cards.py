"""An article's cards (teasers, search result, rail and related entries), rendered once.

A listing shows 20 cards; rendering them in templates and loading what they show (3
queries, some 240 rendition rows) was most of a cold listing's cost. So each article's
cards are kept as HTML in `ArticleCard`, written by the first page that shows them, and
read back in one query. A kept card is current while:

- its `stamp` is the article's `render_stamp`: every save of the article makes a new one,
  and so does every change of what its cards show (`connect()` below: its section, an
  author, a byline, its picture or the picture's renditions, a correction's time);
- its `version` is the running code's: a fingerprint of the templates and modules that
  draw cards and of the settings they read (time zone, media address), so a deploy
  that changes a card's markup renders every card again as pages show them;
- its picture's rights have not ended (`shown_until`).

Whatever is not current is rendered from the database and kept. The stamp is read with
(or before) everything the card shows, so a reader who rendered from data an editor
was changing keeps a card stamped with the old stamp, which is never current: no card
outlives the change it missed.
"""

import hashlib
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from taggit.models import Tag, TaggedItem

from articles import body, dependencies, queries
from articles.models import (
    Article,
    ArticleCard,
    Author,
    Byline,
    Image,
    KeptArticlePage,
    Note,
    Rendition,
    Section,
)

log = logging.getLogger(__name__)

TEMPLATES = {
    "teaser": "includes/teaser.html",
    "search_result": "includes/search_result.html",
    "rail_item": "includes/rail_item.html",
    "related_item": "includes/related_item.html",
}
# What the templates include or call: a change to any of them is a new version.
INCLUDED = ("includes/labels.html", "includes/byline.html", "includes/dateline.html")
MODULES = ("body.py", "cards.py", "links.py", "templatetags/articles_tags.py")
SETTINGS = ("TIME_ZONE", "USE_TZ", "LANGUAGE_CODE", "MEDIA_URL", "STATIC_URL", "SITE_URL")
# A card's forms: a page reads only those it shows (a listing's teasers are a third of
# what a card row holds).
FORMS = ("teaser", "lead_teaser", "search_result", "rail_item", "related_item")
FIELDS = (*FORMS, "keys")

_fingerprints = {}


@dataclass(frozen=True, slots=True)
class Card:
    """An article's cards: the forms that were read ("" for the others) and its keys."""

    pk: int
    teaser: str = ""
    lead_teaser: str = ""
    search_result: str = ""
    rail_item: str = ""
    related_item: str = ""
    keys: tuple = ()


def fingerprint(templates, modules, setting_names):
    """A fingerprint of what draws kept HTML: templates and modules (paths under
    articles/, or absolute; read once per process) and the settings they read (read
    every time: tests change them)."""
    key = (tuple(templates), tuple(modules))
    if key not in _fingerprints:
        digest = hashlib.sha256()
        for name in templates:
            digest.update(get_template(name).template.source.encode())
        for module in modules:
            digest.update((Path(__file__).parent / module).read_bytes())
        _fingerprints[key] = digest.hexdigest()
    digest = hashlib.sha256(_fingerprints[key].encode())
    digest.update(repr([getattr(settings, name, None) for name in setting_names]).encode())
    return digest.hexdigest()[:32]


def version():
    """The cards' version: what draws them."""
    return fingerprint([*TEMPLATES.values(), *INCLUDED], MODULES, SETTINGS)


def current_sql(kept, current, *, article):
    """The SQL condition, and its parameters, under which a kept row `kept` joined to its
    article (`article`, a table or alias) is current."""
    today = connection.ops.adapt_datefield_value(timezone.localdate())
    condition = (
        f"{article}.render_stamp = {kept}.stamp AND {kept}.version = %s "
        f"AND ({kept}.shown_until IS NULL OR {kept}.shown_until >= %s)"
    )
    return condition, [current, today]


def cards_of(articles, *, forms=FORMS, public_only=False, known=None):
    """The cards of `articles` (rows with at least their pk), in their order, holding
    the `forms` a page shows; with `public_only`, of those still public alone (a kept
    ranking may hold a story withdrawn since).

    One query when every card is kept; else also the loading of those that are not
    (queries.for_cards) and one write that keeps them. `known`: {pk: Card, or None when
    not current} of articles whose kept cards the caller read already (with `forms`):
    they are not read again.
    """
    articles = list(articles)
    if not articles:
        return []
    current = version()
    known = known or {}
    unknown = [article.pk for article in articles if article.pk not in known]
    kept = {pk: card for pk, card in known.items() if card is not None}
    if unknown:
        kept.update(_read(unknown, current, forms, public_only=public_only))
    # Once each: an article can be in both rails of a page.
    missing = list({article.pk: article for article in articles if article.pk not in kept}.values())
    if missing:
        loaded = queries.for_cards(missing)
        made = [_render(article) for article in loaded if article.is_public or not public_only]
        _keep(made, current)
        kept.update((card.pk, card) for card, _ in made)
    return [kept[article.pk] for article in articles if article.pk in kept or not public_only]


def keep_current(pks):
    """Render and keep the cards of the articles `pks` that are not current (for
    `manage.py keep_cards`); how many were drawn."""
    current = version()
    kept = _read(pks, current, forms=())
    missing = [Article.from_db(None, ["id"], [pk]) for pk in pks if pk not in kept]
    if missing:
        _keep([_render(article) for article in queries.for_cards(missing)], current)
    return len(missing)


def keys_of(cards):
    return {key for card in cards for key in card.keys}


def read_current(model, columns, pks, current, *, public_only=False):
    """Rows (article id, *columns) of the current kept `model` rows of `pks` (of those
    public alone with `public_only`), in one query.

    Raw SQL: the join on the article's stamp is the whole query, and building it
    through the ORM cost more than running it.
    """
    articles = Article._meta.db_table
    condition, params = current_sql("k", current, article=articles)
    if public_only:
        public, public_params = queries.published_sql()
        condition, params = f"{condition} AND {public}", [*params, *public_params]
    sql = (
        f"SELECT k.article_id, {', '.join(f'k.{name}' for name in columns)} "
        f"FROM {model._meta.db_table} k JOIN {articles} ON {articles}.id = k.article_id "
        f"WHERE {condition} AND k.article_id IN ({', '.join(['%s'] * len(pks))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *pks])
        return cursor.fetchall()


def _read(pks, current, forms, *, public_only=False):
    """{pk: Card} of the current kept cards of `pks`, holding `forms`."""
    rows = read_current(ArticleCard, (*forms, "keys"), pks, current, public_only=public_only)
    return {
        pk: Card(
            pk,
            **{form: mark_safe(html) for form, html in zip(forms, htmls, strict=True)},
            keys=tuple(keys.split()),
        )
        for pk, *htmls, keys in rows
    }


def _render(article):
    """(Card, shown_until) of a complete article (queries.for_cards)."""
    context = {"article": article}
    teaser = render_to_string(TEMPLATES["teaser"], context)
    card = Card(
        article.pk,
        teaser=mark_safe(teaser),
        lead_teaser=mark_safe(render_to_string(TEMPLATES["teaser"], {**context, "lead": True})),
        search_result=mark_safe(render_to_string(TEMPLATES["search_result"], context)),
        rail_item=mark_safe(render_to_string(TEMPLATES["rail_item"], context)),
        related_item=mark_safe(render_to_string(TEMPLATES["related_item"], context)),
        keys=tuple(sorted(dependencies.of_card(article))),
    )
    image = article.lead_image
    shown_until = image.usable_until if body.is_showable(image) else None
    return card, (article.render_stamp, shown_until)


def _keep(made, current):
    """Keep rendered cards."""
    rows = [
        ArticleCard(
            article_id=card.pk,
            stamp=stamp,
            version=current,
            shown_until=shown_until,
            keys=" ".join(card.keys),
            **{name: getattr(card, name) for name in FIELDS if name != "keys"},
        )
        for card, (stamp, shown_until) in made
    ]
    keep(ArticleCard, rows, ["stamp", "version", "shown_until", *FIELDS])


def keep(model, rows, fields):
    """Write kept rows over older ones; a failed write (a read-only replica, an article
    deleted meanwhile) only means they are rendered again next time."""
    try:
        with transaction.atomic():
            model.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["article"], update_fields=fields
            )
    except DatabaseError:
        log.warning("Could not keep %d %s rows", len(rows), model.__name__, exc_info=True)


# What a page or card shows besides the article's own fields: a change to it makes what
# is kept of the articles showing it stale (a new stamp, in the same transaction).


def renew(articles):
    """Make what is kept of the `articles` queryset stale."""
    articles.update(render_stamp=uuid.uuid4())


def renew_article(article_id):
    renew(Article.objects.filter(pk=article_id))


def section_changed(sender, instance, created=False, raw=False, **kwargs):
    if not (raw or created):
        renew(Article.objects.filter(section_id=instance.pk))


def author_changed(sender, instance, created=False, raw=False, **kwargs):
    if not (raw or created):
        renew(Article.objects.filter(bylines__author_id=instance.pk))


def tag_changed(sender, instance, created=False, raw=False, **kwargs):
    if not (raw or created):
        tagged = TaggedItem.objects.filter(
            tag_id=instance.pk, content_type=ContentType.objects.get_for_model(Article)
        )
        renew(Article.objects.filter(pk__in=tagged.values("object_id")))


def part_of_article_changed(sender, instance, raw=False, **kwargs):
    """A byline or a note."""
    if not raw:
        renew_article(instance.article_id)


def tagged_item_changed(sender, instance, raw=False, **kwargs):
    if not raw and instance.content_type_id == ContentType.objects.get_for_model(Article).pk:
        renew_article(instance.object_id)


def tags_changed(sender, instance, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear") and isinstance(instance, Article):
        renew_article(instance.pk)


def image_changed(sender, instance, created=False, raw=False, **kwargs):
    if not (raw or created):
        renew_image(instance.pk)


def rendition_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        renew_image(instance.image_id)


def renew_image(image_id):
    """The articles it leads, and those whose kept page shows it in the body.

    Two statements, not one with OR: PostgreSQL cannot use an index for "leads it OR is
    in this subquery" and scanned every article (150 ms at 100,000) for each of the
    dozen renditions an upload makes, though no page shows a new picture yet.
    """
    renew(Article.objects.filter(lead_image_id=image_id))
    in_body = KeptArticlePage.objects.filter(keys__contains=f" i{image_id} ")
    renew(Article.objects.filter(pk__in=in_body.values("article_id")))


def connect():
    for model, receiver in (
        (Section, section_changed),
        (Author, author_changed),
        (Tag, tag_changed),
        (Byline, part_of_article_changed),
        (Note, part_of_article_changed),
        (TaggedItem, tagged_item_changed),
        (Image, image_changed),
        (Rendition, rendition_changed),
    ):
        name = model._meta.model_name
        post_save.connect(receiver, sender=model, dispatch_uid=f"kept-save-{name}")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"kept-delete-{name}")
    m2m_changed.connect(tags_changed, sender=TaggedItem, dispatch_uid="kept-tags")


connect()
