"""The newsroom's roles and what each may do, for every app.

The groups are data in the database, kept in step with this table after every
`migrate` (post_migrate, connected in newsroom.apps): permissions of an app migrated
later, such as the newsletter's, are added when they appear. Permissions an
administrator gave a group by hand are kept.
"""

#: "*" is every permission of the app; other entries are codenames. Contributors get no
#: publish_article permission: the workflow services and the admin refuse them
#: publishing, scheduling and editing anything but their own drafts.
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
    """Create the groups and give them every listed permission that exists now."""
    for name, apps in GROUP_PERMISSIONS.items():
        group, _ = group_model.objects.using(using).get_or_create(name=name)
        for app_label, codenames in apps.items():
            permissions = permission_model.objects.using(using).filter(
                content_type__app_label=app_label
            )
            if codenames != ["*"]:
                permissions = permissions.filter(codename__in=codenames)
            group.permissions.add(*permissions)


def sync_groups_after_migrate(sender, using="default", apps=None, **kwargs):
    if apps is None or sender.label not in {
        app for permissions in GROUP_PERMISSIONS.values() for app in permissions
    }:
        return
    try:
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
    except LookupError:
        return
    sync_groups(group_model, permission_model, using=using)
