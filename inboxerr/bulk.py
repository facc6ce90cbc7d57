"""Fast batch inserts that skip rows breaking a unique constraint, and count the rest exactly; and counters
added to in one statement (add_to_counts).

PostgreSQL: COPY into a session-local staging table with the target's column
types, then one INSERT ... SELECT ... ON CONFLICT DO NOTHING. Elsewhere (SQLite):
one executemany of INSERT ... ON CONFLICT DO NOTHING. Django's bulk_create
builds a model instance per row and cannot say how many rows went in.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.db import connection, models, transaction
from django.utils import timezone

# Up to this many rows go in one multi-row INSERT; more go through COPY (PostgreSQL) or executemany.
SMALL_BATCH = 100


def insert_ignoring_conflicts(
    *, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], order_by: str = ""
) -> int:
    """Insert `rows` (tuples in `columns` order, columns by attname) in the caller's transaction.

    Columns left out get the model's defaults (callables called per row, auto_now
    fields the current time), as model.save() would. Returns how many rows were
    new. `order_by` (a column) decides which of two conflicting rows in one batch
    is kept: the first.
    """
    inserted = _insert(model, columns, rows, order_by, returning="")
    assert isinstance(inserted, int)
    return inserted


def insert_returning_kept(
    *, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], order_by: str, returning: str
) -> list[Any]:
    """As insert_ignoring_conflicts, answering the `returning` column of each row that went in (the rows
    left out are the others): for a caller that must say which rows conflicted, at about 3% more time."""
    inserted = _insert(model, columns, rows, order_by, returning=returning)
    assert isinstance(inserted, list)
    return inserted


def insert_counting_by(
    *, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], order_by: str, count_by: str
) -> dict[Any, int]:
    """As insert_ignoring_conflicts, answering how many rows went in for each value of the `count_by` column.
    On PostgreSQL the database counts them (the INSERT in a WITH, grouped), so a few rows come back, not one
    per row inserted."""
    counted = _insert(model, columns, rows, order_by, returning=count_by, grouped=True)
    assert isinstance(counted, dict)
    return counted


def _insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    order_by: str,
    *,
    returning: str,
    grouped: bool = False,
) -> int | list[Any] | dict[Any, int]:
    """The row count; with `returning` the list of that column's inserted values, or with `grouped` too
    how many rows went in for each of its values."""
    assert connection.in_atomic_block, "call inside a transaction, so the batch commits with whatever it counts"
    table = model._meta.db_table
    columns, filled = _filled(model, columns, rows)
    names = ", ".join(columns)
    postgres = connection.vendor == "postgresql"
    if not filled:
        return {} if grouped else [] if returning else 0
    if order_by:  # VALUES and executemany insert in list order
        position = columns.index(order_by)
        filled.sort(key=lambda row: row[position])
    placeholders = _placeholders(model, tuple(columns), typed=False)
    tail = f" RETURNING {returning}" if returning else ""

    def statement(insert: str) -> str:
        if grouped and postgres:
            return f"WITH kept AS ({insert}) SELECT {returning}, count(*) FROM kept GROUP BY {returning}"
        return insert

    def answer(kept: list[Any]) -> list[Any] | dict[Any, int]:
        return dict(Counter(kept)) if grouped else kept

    def result(cursor: Any) -> int | list[Any] | dict[Any, int]:
        if not returning:
            return cast(int, cursor.rowcount)
        if grouped and postgres:
            return {value: count for value, count in cursor.fetchall()}
        return answer([row[0] for row in cursor.fetchall()])

    with connection.cursor() as cursor:
        if len(filled) <= SMALL_BATCH:
            # A few rows (an API send): one INSERT beats four statements around a COPY.
            values = ", ".join([placeholders] * len(filled))
            sql = f"INSERT INTO {table} ({names}) VALUES {values} ON CONFLICT DO NOTHING{tail}"
            cursor.execute(statement(sql), _flat(filled))
            return result(cursor)
        if returning and not postgres:  # SQLite, for trying it out: a row at a time
            sql = f"INSERT INTO {table} ({names}) VALUES {placeholders} ON CONFLICT DO NOTHING{tail}"
            kept: list[Any] = []
            for row in filled:
                cursor.execute(sql, row)
                kept += [found[0] for found in cursor.fetchall()]
            return answer(kept)
        if not postgres:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES {placeholders} ON CONFLICT DO NOTHING", filled)
            return cast(int, cursor.rowcount)

        stage = f"{table}_stage"
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS SELECT {names} FROM {table} WITH NO DATA"
        )
        # Empty it first: inside an outer transaction (a savepoint) ON COMMIT has not fired yet.
        cursor.execute(f"TRUNCATE {stage}")
        with cursor.cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for row in filled:
                copy.write_row(row)
        order = f" ORDER BY {order_by}" if order_by else ""
        cursor.execute(
            statement(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage}{order} ON CONFLICT DO NOTHING{tail}")
        )
        return result(cursor)


def _filled(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The columns with those left out added, and the rows with their values, each as the database takes it."""
    defaults = defaults_for(model, columns)
    columns = [*columns, *(field.attname for field, _ in defaults)]
    filled: list[tuple[Any, ...]] = [(*row, *(make() for _, make in defaults)) for row in rows]
    if connection.vendor == "postgresql":
        # psycopg adapts UUIDs, datetimes and the rest itself; only JSON needs encoding.
        return columns, [tuple(_json(value) for value in row) for row in filled]
    # SQLite stores UUIDs as hex and datetimes as text: let each field convert its value.
    fields = [cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in columns]
    return columns, [
        tuple(f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)) for row in filled
    ]


def _flat(rows: Sequence[Sequence[Any]]) -> list[Any]:
    return [value for row in rows for value in row]


def _json(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def defaults_for(
    model: type[models.Model], given: Sequence[str]
) -> list[tuple[models.Field[Any, Any], Callable[[], Any]]]:
    """For each concrete field not given (but the auto primary key): how to make its value."""
    now = timezone.now()
    makers: list[tuple[models.Field[Any, Any], Callable[[], Any]]] = []
    for field in model._meta.concrete_fields:
        if field.attname in given or isinstance(field, models.AutoField):
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            makers.append((field, lambda: now))
        elif field.has_default():
            default = field.default
            makers.append((field, default if callable(default) else _constant(default)))
        elif field.null:
            makers.append((field, lambda: None))
    return makers


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def add_to_counts(
    *, model: type[models.Model], keys: Sequence[str], count: str, rows: Sequence[Sequence[Any]], returning: str = ""
) -> list[tuple[Any, ...]]:
    """Add to counter rows in one statement: for each of `rows` (the `keys` columns' values, then the amount),
    the row those keys name gets the amount added to its `count` column, or is created holding it. The rows
    are locked in the order given until the caller's transaction ends, so callers that must not wait on each
    other give them in one order. Answers the `returning` columns (comma-separated) of each row written."""
    statement = counts_statement(model=model, keys=keys, count=count, rows=rows, returning=returning)
    with connection.cursor() as cursor:
        cursor.execute(statement.sql(), statement.params)
        return cursor.fetchall() if returning else []


# --- Statements run together ----------------------------------------------------------------------
# A request that writes a few rows to several tables (an API send: its task, its message, its quota count)
# spends more on statements than on rows: each is a round trip, and parsed and planned on its own.

Query = tuple[str, list[Any]]  # SQL and its parameters


@dataclass(frozen=True)
class Statement:
    """An INSERT of a few rows, `INSERT INTO table (columns) VALUES rows tail`, for run_together."""

    model: type[models.Model]
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]  # each value as the database takes it
    tail: str  # ON CONFLICT ..., RETURNING ...

    @property
    def params(self) -> list[Any]:
        return _flat(self.rows)

    def sql(self, only_if: str = "") -> str:
        """The INSERT; with `only_if` (an SQL condition), one that inserts the rows only when it holds."""
        insert = f"INSERT INTO {self.model._meta.db_table} ({', '.join(self.columns)})"
        rows = ", ".join([_placeholders(self.model, tuple(self.columns), typed=bool(only_if))] * len(self.rows))
        if not only_if:
            return f"{insert} VALUES {rows} {self.tail}"
        return f"{insert} SELECT * FROM (VALUES {rows}) AS given WHERE {only_if} {self.tail}"


@functools.cache
def _placeholders(model: type[models.Model], columns: tuple[str, ...], *, typed: bool) -> str:
    """One row's placeholders; `typed`, each cast to its column's type, for values selected rather than inserted
    (which no longer take their columns' types). Cached: asking each field its type costs more than building
    the rest of a send's statement."""
    if not typed:
        return "(" + ", ".join(["%s"] * len(columns)) + ")"
    fields = [cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in columns]
    # The type without its length ("varchar", not "varchar(20)"), which a cast would cut a value to: the column
    # still refuses one too long.
    types = [re.sub(r"\(.*\)$", "", field.db_type(connection) or "") for field in fields]
    return "(" + ", ".join(f"CAST(%s AS {kind})" for kind in types) + ")"


def insert_statement(*, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Statement:
    """insert_ignoring_conflicts' INSERT of a few rows (up to SMALL_BATCH, at least one), for run_together."""
    assert 0 < len(rows) <= SMALL_BATCH, "a few rows: more go through insert_ignoring_conflicts"
    columns, filled = _filled(model, columns, rows)
    return Statement(model, columns, filled, "ON CONFLICT DO NOTHING")


def counts_statement(
    *, model: type[models.Model], keys: Sequence[str], count: str, rows: Sequence[Sequence[Any]], returning: str = ""
) -> Statement:
    """add_to_counts' statement, for run_together."""
    table = model._meta.db_table
    columns = [*keys, count]
    fields = [cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in columns]
    values = [tuple(f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)) for row in rows]
    tail = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {count} = {table}.{count} + EXCLUDED.{count}"
    return Statement(model, columns, values, f"{tail} RETURNING {returning}" if returning else tail)


def run_together(statements: Sequence[Statement], *, unless: Query | None = None) -> list[tuple[Any, ...]]:
    """Run data-modifying statements, in the caller's transaction, as if one after the other, and answer the
    last one's rows (its RETURNING). On PostgreSQL they are one statement, all but the last in a WITH: one
    round trip, and outside a transaction a transaction of its own; none of them sees the others' rows, so a
    foreign key between them must be deferred (as Django's are) and no two may write one row. Elsewhere
    they run in turn, in a transaction.

    With `unless` (a query), they run only when it finds no row, and the answer is what it found (none: they
    ran). On PostgreSQL it is a part of the same statement: the check costs no round trip of its own."""
    if connection.vendor != "postgresql":
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            if unless:
                cursor.execute(*unless)
                if found := cursor.fetchall():
                    return found
            for statement in statements:
                cursor.execute(statement.sql(), statement.params)
            return cursor.fetchall() if cursor.description and not unless else []
    if unless:
        only_if = "NOT EXISTS (SELECT FROM screened)"
        parts = [("screened", unless[0], unless[1])]
        parts += [(f"written_{i}", s.sql(only_if), s.params) for i, s in enumerate(statements)]
        last: Query = ("SELECT * FROM screened", [])
    else:
        *first, final = statements
        parts = [(f"written_{i}", s.sql(), s.params) for i, s in enumerate(first)]
        last = (final.sql(), final.params)
    prefix = "WITH " + ", ".join(f"{name} AS ({sql})" for name, sql, _ in parts) + " " if parts else ""
    params = [value for *_, values in parts for value in values]
    with connection.cursor() as cursor:
        _execute_prepared(cursor, prefix + last[0], [*params, *last[1]])
        return cursor.fetchall() if cursor.description else []


# The statements each connection has prepared, by their SQL: a connection's own, as the server's are (a new
# connection, after a restart or CONN_MAX_AGE, starts with none).
_prepared: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()
PREPARED_PER_CONNECTION = 32  # a batch's statement differs with its size: beyond this many, run them unprepared


def _execute_prepared(cursor: Any, sql: str, params: list[Any]) -> None:
    """Run `sql` (PostgreSQL) as a statement this connection prepared: parsed and planned once, not on every run.
    For the statements a request of one kind always runs, which take longer to plan than to run (an API send's
    took 0.55 ms to plan and 0.2 ms to run). Django's cursors bind parameters on the client and cannot prepare,
    so this is PREPARE and EXECUTE, which a connection pooler in transaction mode (which hands one session's
    statements to another) would not allow."""
    names = _prepared.setdefault(connection.connection, {})
    name = names.get(sql)
    if name is None and len(names) < PREPARED_PER_CONNECTION:
        name = f"inboxerr_run_together_{len(names) + 1}"
        numbers = itertools.count(1)
        numbered = re.sub("%[s%]", lambda found: "%" if found[0] == "%%" else f"${next(numbers)}", sql)
        cursor.execute(f"PREPARE {name} AS {numbered}")
        names[sql] = name
    if name is None:
        cursor.execute(sql, params)
    else:
        cursor.execute(f"EXECUTE {name}({', '.join(['%s'] * len(params))})", params)
