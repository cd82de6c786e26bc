"""The newsroom's groups: Contributor, Editor, Newsletter editor.

Permissions are created after migrations run, so on a fresh database the groups start
empty here and newsroom.roles fills them in its post_migrate handler. The table below is
frozen as it was when this migration was written: later changes to the roles live in
newsroom.roles and reach the database through that handler, never by editing this file.
"""

from django.db import migrations


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


def create_groups(apps, schema_editor):
    using = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, app_permissions in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        for app_label, codenames in app_permissions.items():
            permissions = Permission.objects.using(using).filter(
                content_type__app_label=app_label
            )
            if codenames != ["*"]:
                permissions = permissions.filter(codename__in=codenames)
            group.permissions.add(*permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(
        name__in=["Contributor", "Editor", "Newsletter editor"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0002_search_index"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
