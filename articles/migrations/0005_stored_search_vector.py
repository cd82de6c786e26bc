"""PostgreSQL: a stored, generated `search_vector` column with a GIN index on it.

The weighted tsvector (title A, dek B, body C) was an expression index (migration
0002): matching used the index, but ranking had to rebuild every match's vector from
its body. A stored generated column is computed once per write, so ranking reads it.
Its GIN index replaces the expression index `article_search_idx`.

The Article model does not declare the column (SQLite has none, and Django never
writes a generated column): articles/search.py reads it with raw SQL. Because the
column depends on title, dek and body, PostgreSQL refuses to change those columns'
types while it exists: a later migration altering them must drop the column and this
index first and recreate them after.

The expression is frozen here (it equals articles.search.SEARCH_VECTOR_SQL today).
On SQLite this migration does nothing.
"""

from django.db import migrations

VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(dek, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(body, '')), 'C')"
)


def add_column(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE articles_article ADD COLUMN IF NOT EXISTS search_vector tsvector "
        f"GENERATED ALWAYS AS ({VECTOR_SQL}) STORED"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS article_search_vector_idx ON articles_article "
        "USING gin (search_vector)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS article_search_idx")


def drop_column(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS article_search_idx ON articles_article USING gin (({VECTOR_SQL}))"
    )
    schema_editor.execute("DROP INDEX IF EXISTS article_search_vector_idx")
    schema_editor.execute("ALTER TABLE articles_article DROP COLUMN IF EXISTS search_vector")


class Migration(migrations.Migration):
    dependencies = [("articles", "0004_admin_list_index")]

    operations = [migrations.RunPython(add_column, drop_column)]
