"""Indexes for the subscriber admin at a million rows.

The list's order and the weekly chart's date ranges get B-tree indexes (partial where
most rows are NULL). On PostgreSQL, a text_pattern_ops index on LOWER(email) lets the
admin's prefix search (SubscriberQuerySet.search_email) walk an index; SQLite has no
operator classes and does without.
"""

from django.db import migrations, models

EMAIL_PREFIX_INDEX = "subscriber_email_prefix_idx"


def create_prefix_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {EMAIL_PREFIX_INDEX} "
            "ON newsletter_subscriber (LOWER(email) text_pattern_ops)"
        )


def drop_prefix_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {EMAIL_PREFIX_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("newsletter", "0002_delivery_lease_issue_week")]

    operations = [
        migrations.AddIndex(
            model_name="subscriber",
            index=models.Index(fields=["-signed_up_at", "-id"], name="subscriber_signed_up_idx"),
        ),
        migrations.AddIndex(
            model_name="subscriber",
            index=models.Index(
                condition=models.Q(confirmed_at__isnull=False),
                fields=["confirmed_at"],
                name="subscriber_confirmed_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="subscriber",
            index=models.Index(
                condition=models.Q(unsubscribed_at__isnull=False),
                fields=["unsubscribed_at"],
                name="subscriber_unsubscribed_idx",
            ),
        ),
        migrations.RunPython(create_prefix_index, drop_prefix_index),
    ]
