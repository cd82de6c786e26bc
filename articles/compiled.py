"""The public pages' small queries, compiled to SQL once per database.

Building a query through the ORM (each filter(), then the compiler) costs a page past
every cache several times what PostgreSQL takes to run it. The queries here change
only in the moment they ask about, so each is compiled once with a stand-in moment and
run with the real one; the queryset stays the one statement of what it reads.
"""

import functools
from datetime import UTC, datetime

from django.db import connections
from django.utils import timezone

# A moment no row holds: compiled in place of "now", replaced by it at each run.
STAND_IN = datetime(1970, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


class Compiled:
    """`build(now)`, a queryset, as SQL compiled once per database; `where=True` keeps
    only its condition (for raw statements that add their own)."""

    def __init__(self, build, *, where=False):
        self.build = build
        self.where = where
        self._compiled = functools.cache(self._compile)

    def _compile(self, alias):
        connection = connections[alias]
        query = self.build(STAND_IN).query
        compiler = query.get_compiler(using=alias)
        sql, params = query.where.as_sql(compiler, connection) if self.where else compiler.as_sql()
        stand_in = connection.ops.adapt_datetimefield_value(STAND_IN)
        return sql, tuple(params), stand_in, query.model

    def sql(self, *, using="default", now=None):
        """(SQL, parameters) asking about `now` (the current time unless given)."""
        sql, params, stand_in, _ = self._compiled(using)
        moment = connections[using].ops.adapt_datetimefield_value(now or timezone.now())
        return sql, [moment if param == stand_in else param for param in params]

    def rows(self, *, using="default", now=None):
        with connections[using].cursor() as cursor:
            cursor.execute(*self.sql(using=using, now=now))
            return cursor.fetchall()

    def models(self, *, using="default", now=None):
        """The rows as model instances (of the queryset's model, with its only() fields)."""
        model = self._compiled(using)[3]
        return list(model.objects.raw(*self.sql(using=using, now=now)).using(using))
