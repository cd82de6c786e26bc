"""Full-text search over published articles.

On PostgreSQL the query uses the weighted tsvector that the GIN index of migration
0002 covers (title A, dek B, body C). On SQLite it falls back to a ranked LIKE match.
"""

SEARCH_CONFIG = "english"
SEARCH_VECTOR_SQL = (
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(title, '')), 'A') || "
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(dek, '')), 'B') || "
    f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(body, '')), 'C')"
)
