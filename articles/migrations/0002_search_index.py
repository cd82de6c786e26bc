"""PostgreSQL full-text search over articles: a GIN index on a weighted tsvector.

The expression must match articles.search.SEARCH_VECTOR_SQL exactly for the planner
to use the index. SQLite has no such index; search there uses a simple fallback.
"""

from django.db import migrations

from articles.search import SEARCH_VECTOR_SQL


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS article_search_idx ON articles_article "
            f"USING gin (({SEARCH_VECTOR_SQL}))"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS article_search_idx")


class Migration(migrations.Migration):
    dependencies = [("articles", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
