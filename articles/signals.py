"""Page-cache purges: a change purges the keys of the pages that show it, on commit.

Signals are used only for this and for search indexing (see DESIGN.md).

| change                                         | purges                                    |
|------------------------------------------------|-------------------------------------------|
| public article edited                          | a<pk>, sitemap                            |
| article becomes public / leaves the public     | a<pk> and every list it joins; leaving    |
|                                                | also `latest` (article pages' rails)      |
| public article moves section                   | + list:s<new section>                     |
| byline / tag added to a public article         | a<pk>, list:au<author> / list:t<tag>      |
| correction or update on a public article       | a<pk>, notes                              |
| front page arranged                            | home                                      |
| section, author, tag edited                    | s<pk> and nav, au<pk>, t<pk>              |
| image edited, or its renditions remade, if shown | i<pk>                                   |
| drafts, review, scheduled before their time,   | nothing                                   |
| new images, authors, tags; old slugs; renditions of unshown images |                       |

Anything scheduled (a publication time, a front-page expiry) also asks the schedule
again, so the moment it comes due is known (newsroom/pagecache/store.py, `catch_up`).
"""

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from taggit.models import Tag, TaggedItem

from articles import dependencies, search
from articles.models import Article, Author, Byline, FrontPageStory, Image, Note, Section
from newsroom import pagecache


def _is_public(article_id):
    return Article.objects.published().filter(pk=article_id).exists()


def article_before_save(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        instance._was = None
        return
    old = Article.objects.filter(pk=instance.pk).only("status", "publish_at", "section_id").first()
    instance._was = (old.is_public, old.is_public_status, old.section_id) if old else None


def article_saved(sender, instance, created=False, raw=False, **kwargs):
    if raw:
        return
    was_public, was_scheduled, old_section = getattr(instance, "_was", None) or (False, False, None)
    now_public = instance.is_public
    reschedule = was_scheduled or instance.is_public_status
    if not (was_public or now_public):
        if reschedule:
            pagecache.purge_on_commit(reschedule=True)
        return
    keys = {f"a{instance.pk}", "sitemap"}
    if was_public != now_public:
        keys |= dependencies.lists_of(instance)
        if instance.notes.exists():
            keys.add("notes")
    elif old_section != instance.section_id:
        keys.add(f"list:s{instance.section_id}")
    withdrawn = set()
    if was_public and not now_public:
        keys.add("latest")
        withdrawn.add(f"a{instance.pk}")
    pagecache.purge_on_commit(keys, withdrawn=withdrawn, reschedule=reschedule)
    if now_public:
        title, dek = instance.title, instance.dek
        transaction.on_commit(lambda: search.index_terms(title=title, dek=dek))


def article_deleted(sender, instance, **kwargs):
    if instance.is_public:
        key = f"a{instance.pk}"
        pagecache.purge_on_commit({key, "list", "latest", "sitemap", "notes"}, withdrawn={key})


def byline_changed(sender, instance, raw=False, **kwargs):
    if not raw and _is_public(instance.article_id):
        pagecache.purge_on_commit({f"a{instance.article_id}", f"list:au{instance.author_id}"})


def tagged_item_changed(sender, instance, raw=False, **kwargs):
    kind = ContentType.objects.get_for_id(instance.content_type_id).model_class()
    if not raw and kind is Article and _is_public(instance.object_id):
        pagecache.purge_on_commit({f"a{instance.object_id}", f"list:t{instance.tag_id}"})


def tags_changed(sender, instance, action, pk_set=None, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if isinstance(instance, Article) and _is_public(instance.pk):
        tags = {f"list:t{pk}" for pk in pk_set or ()}
        pagecache.purge_on_commit({f"a{instance.pk}", *tags})


def note_changed(sender, instance, raw=False, **kwargs):
    if not raw and _is_public(instance.article_id):
        pagecache.purge_on_commit({f"a{instance.article_id}", "notes"})


def front_page_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        pagecache.purge_on_commit({"home"}, reschedule=True)


def named_thing_changed(prefix, *, also=()):
    """Sections, authors and tags: an edit shows wherever they do; a new one nowhere."""

    def receiver(sender, instance, created=False, raw=False, **kwargs):
        if not (raw or created):
            pagecache.purge_on_commit({f"{prefix}{instance.pk}", *also})

    return receiver


def section_changed(sender, instance, created=False, raw=False, **kwargs):
    if raw:
        return
    if not created or instance.is_in_navigation:
        pagecache.purge_on_commit({f"s{instance.pk}", "nav"})


def image_changed(sender, instance, created=False, raw=False, **kwargs):
    if not (raw or created):
        purge_image_if_shown(instance.pk)


def purge_image_if_shown(image_id):
    """Purge an image's pages when a kept page shows it or a public page uses it."""
    shown = pagecache.is_shown(f"i{image_id}") or (
        Article.objects.published().filter(lead_image_id=image_id).exists()
        or Author.objects.filter(photo_id=image_id).exists()
    )
    if shown:
        pagecache.purge_on_commit({f"i{image_id}"})


def connect():
    def both(receiver, model, name):
        post_save.connect(receiver, sender=model, dispatch_uid=f"pagecache-save-{name}")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"pagecache-delete-{name}")

    pre_save.connect(article_before_save, sender=Article, dispatch_uid="pagecache-article-pre")
    post_save.connect(article_saved, sender=Article, dispatch_uid="pagecache-article")
    post_delete.connect(article_deleted, sender=Article, dispatch_uid="pagecache-article-del")
    both(byline_changed, Byline, "byline")
    both(tagged_item_changed, TaggedItem, "tagged-item")
    m2m_changed.connect(tags_changed, sender=TaggedItem, dispatch_uid="pagecache-tags")
    both(note_changed, Note, "note")
    both(front_page_changed, FrontPageStory, "front-page")
    both(section_changed, Section, "section")
    both(named_thing_changed("au"), Author, "author")
    both(named_thing_changed("t"), Tag, "tag")
    both(image_changed, Image, "image")


connect()
