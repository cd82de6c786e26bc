"""Page-cache invalidation: any change to what readers see starts a new cache generation.

Signals are used only for this (see DESIGN.md); the purge waits for the transaction to
commit so a reader never caches a page built from a rolled-back change.
"""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from taggit.models import Tag, TaggedItem

from articles import cache, search
from articles.models import (
    Article,
    Author,
    Byline,
    FrontPageStory,
    Image,
    Note,
    OldSlug,
    Rendition,
    Section,
)

WATCHED = (
    Article, Section, Author, Image, Rendition, Byline, Note, OldSlug, FrontPageStory, Tag,
    TaggedItem,
)  # fmt: skip


def content_changed(sender, **kwargs):
    if kwargs.get("raw"):
        return  # loaddata: the cache is rebuilt when the fixture is in place
    cache.invalidate_on_commit()


def article_saved(sender, instance, raw=False, **kwargs):
    """Search indexing: a public article's headline words become "did you mean" terms."""
    if raw or not instance.is_public_status:
        return
    title, dek = instance.title, instance.dek
    transaction.on_commit(lambda: search.index_terms(title=title, dek=dek))


def tags_changed(sender, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        cache.invalidate_on_commit()


for model in WATCHED:
    post_save.connect(
        content_changed, sender=model, dispatch_uid=f"page-cache-save-{model.__name__}"
    )
    post_delete.connect(
        content_changed, sender=model, dispatch_uid=f"page-cache-delete-{model.__name__}"
    )
post_save.connect(article_saved, sender=Article, dispatch_uid="search-terms-article")
m2m_changed.connect(tags_changed, sender=TaggedItem, dispatch_uid="page-cache-tags")
