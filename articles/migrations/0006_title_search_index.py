"""PostgreSQL: a GIN index on the title's tsvector, for search's title candidates.

Search ranks only a bounded set of candidates (articles/search.py, RANKED_MATCHES):
the newest matches and the newest articles whose *title* matches. This index finds the
latter without reading any body. The expression must stay identical to
articles.search.TitleVector. On SQLite this migration does nothing.
"""

from django.db import migrations

TITLE_VECTOR_SQL = "to_tsvector('english'::regconfig, COALESCE(title, ''))"


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS article_title_search_idx ON articles_article "
        f"USING gin (({TITLE_VECTOR_SQL}))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS article_title_search_idx")


class Migration(migrations.Migration):
    dependencies = [("articles", "0005_stored_search_vector")]

    operations = [migrations.RunPython(add_index, drop_index)]
