"""The newsroom's groups: Contributor, Editor, Newsletter editor.

Permissions are created after migrations run, so on a fresh database the groups start
empty here and articles.apps fills them in its post_migrate handler.
"""

from django.db import migrations


def create_groups(apps, schema_editor):
    from articles.apps import sync_groups

    sync_groups(
        apps.get_model("auth", "Group"),
        apps.get_model("auth", "Permission"),
        using=schema_editor.connection.alias,
    )


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
