"""The public pages' small queries, compiled to SQL once per database.

Building a query through the ORM (each filter(), then the compiler) costs a page past
every cache several times what PostgreSQL takes to run it. The queries here change
only in their parameters (the moment they ask about, an owner's id, a page's offset),
so each is compiled once with stand-ins for them and run with the real values; the
queryset stays the one statement of what it reads.
"""

import functools
from datetime import UTC, datetime

from django.db import connections
from django.utils import timezone

# Values no row holds, compiled in place of the parameters and replaced at each run.
STAND_IN_MOMENT = datetime(1970, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
STAND_IN_OFFSET = 7_654_321_987  # a slice's start: Django writes it into the SQL


def _stand_in(position):
    return -1_000_000_000_000 - position


class _Named(str):
    """A parameter's place in compiled SQL, filled with its value at each run."""


class Compiled:
    """`build(now, **values)`, a queryset, as SQL compiled once per database.

    `values` names the integer parameters `build` takes besides the moment (a value
    named `offset` may start a slice), `texts` its text parameters. `where=True` keeps
    only the queryset's condition (for raw statements that add their own).
    """

    def __init__(self, build, *, values=(), texts=(), where=False):
        self.build = build
        self.values = tuple(values)
        self.texts = tuple(texts)
        self.where = where
        self._compiled = functools.cache(self._compile)

    def _compile(self, alias):
        connection = connections[alias]
        stand_ins = {
            name: STAND_IN_OFFSET if name == "offset" else _stand_in(position)
            for position, name in enumerate(self.values)
        }
        stand_ins |= {name: f"\u2063stand-in {name}\u2063" for name in self.texts}
        query = self.build(STAND_IN_MOMENT, **stand_ins).query
        compiler = query.get_compiler(using=alias)
        sql, params = query.where.as_sql(compiler, connection) if self.where else compiler.as_sql()
        columns = [expression for expression, _, _ in compiler.select or ()]
        names = {connection.ops.adapt_datetimefield_value(STAND_IN_MOMENT): _Named("now")}
        names |= {value: _Named(name) for name, value in stand_ins.items()}
        params = [names.get(param, param) for param in params]
        # The slice's start is written into the SQL: make it a parameter.
        offset = f"OFFSET {STAND_IN_OFFSET}"
        if offset in sql:
            position = sql.index(offset)
            params.insert(sql[:position].count("%s"), _Named("offset"))
            sql = sql.replace(offset, "OFFSET %s")
        # What model rows need, found once: the ORM's converters and the fields' names.
        converters = compiler.get_converters(columns)
        names = [column.target.attname for column in columns]
        return sql, tuple(params), query.model, compiler, converters, names

    def sql(self, *, using="default", now=None, **values):
        """(SQL, parameters) asking about `now` (the current time unless given) and `values`."""
        sql, params, *_ = self._compiled(using)
        values["now"] = connections[using].ops.adapt_datetimefield_value(now or timezone.now())
        return sql, [values[param] if isinstance(param, _Named) else param for param in params]

    def rows(self, *, using="default", now=None, **values):
        with connections[using].cursor() as cursor:
            cursor.execute(*self.sql(using=using, now=now, **values))
            return cursor.fetchall()

    def tuples(self, *, using="default", now=None, **values):
        """The rows as tuples of Python values (converted as the ORM would)."""
        _, _, _, compiler, converters, _ = self._compiled(using)
        rows = self.rows(using=using, now=now, **values)
        return list(compiler.apply_converters(rows, converters)) if converters else rows

    def models(self, *, using="default", now=None, **values):
        """The rows as instances of the queryset's model holding the fields it selects
        (converted from the database's types as the ORM would)."""
        _, _, model, compiler, converters, names = self._compiled(using)
        rows = self.rows(using=using, now=now, **values)
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return [model.from_db(using, names, row) for row in rows]
