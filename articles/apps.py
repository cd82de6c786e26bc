from django.apps import AppConfig
from django.db.models.signals import post_migrate

#: The newsroom's roles. "*" is every permission of the app; other entries are codenames.
#: Contributors get no publish_article permission: the workflow services and the admin
#: refuse them publishing, scheduling and editing anything but their own drafts.
GROUP_PERMISSIONS = {
    "Contributor": {
        "articles": [
            "add_article", "change_article", "view_article",
            "add_byline", "change_byline", "delete_byline", "view_byline",
            "add_image", "view_image", "view_author", "view_section",
        ],
        "taggit": ["view_tag"],
    },
    "Editor": {"articles": ["*"], "taggit": ["*"]},
    "Newsletter editor": {
        "newsletter": ["*"],
        "articles": ["view_article", "view_section", "view_author", "view_image"],
    },
}  # fmt: skip


def sync_groups(group_model, permission_model, *, using="default"):
    """Create the groups and give them every listed permission that exists now.

    Runs from migration 0003 and after every `migrate` (post_migrate): permissions of
    an app migrated later, such as the newsletter's, are added when they appear.
    Permissions an administrator gave a group by hand are kept.
    """
    for name, apps in GROUP_PERMISSIONS.items():
        group, _ = group_model.objects.using(using).get_or_create(name=name)
        for app_label, codenames in apps.items():
            permissions = permission_model.objects.using(using).filter(
                content_type__app_label=app_label
            )
            if codenames != ["*"]:
                permissions = permissions.filter(codename__in=codenames)
            group.permissions.add(*permissions)


def _sync_groups_after_migrate(sender, using="default", apps=None, **kwargs):
    if sender.label not in {"articles", "newsletter", "taggit"} or apps is None:
        return
    try:
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
    except LookupError:
        return
    sync_groups(group_model, permission_model, using=using)


def tag_slug(tag, name, i=None):
    """Tag slugs like article slugs: transliterated to Latin, never empty.

    taggit's own slugify keeps non-Latin letters ("москва") or yields "" for a name of
    symbols, and neither fits the /tag/<slug>/ URL.
    """
    from articles.text import make_slug

    slug = make_slug(name, max_length=90)
    return slug if i is None else f"{slug}-{i}"


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Content"

    def ready(self):
        from taggit.models import Tag

        # taggit's documented override point is TagBase.slugify; the default Tag
        # model is used as it is, so it gets the project's rule here.
        Tag.slugify = tag_slug
        post_migrate.connect(_sync_groups_after_migrate, dispatch_uid="articles-sync-groups")
        import articles.signals  # noqa: F401  (page-cache invalidation, owned by the reader site)
