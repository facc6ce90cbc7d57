"""Fast batch inserts that skip rows breaking a unique constraint, and count the rest exactly; and counters
added to in one statement (add_to_counts).

PostgreSQL: COPY into a session-local staging table with the target's column
types, then one INSERT ... SELECT ... ON CONFLICT DO NOTHING. Elsewhere (SQLite):
one executemany of INSERT ... ON CONFLICT DO NOTHING. Django's bulk_create
builds a model instance per row and cannot say how many rows went in.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
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
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
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


def _flat(rows: list[tuple[Any, ...]]) -> list[Any]:
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
        cursor.execute(*statement)
        return cursor.fetchall() if returning else []


# --- Statements run together ----------------------------------------------------------------------
# A request that writes a few rows to several tables (an API send: its task, its message, its quota count)
# spends more on statements than on rows: each is a round trip, and parsed and planned on its own.

Statement = tuple[str, list[Any]]  # SQL and its parameters


def insert_statement(*, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Statement:
    """insert_ignoring_conflicts' INSERT of a few rows (up to SMALL_BATCH, at least one), for run_together."""
    assert 0 < len(rows) <= SMALL_BATCH, "a few rows: more go through insert_ignoring_conflicts"
    columns, filled = _filled(model, columns, rows)
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(filled))
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) VALUES {values} ON CONFLICT DO NOTHING"
    return sql, _flat(filled)


def counts_statement(
    *, model: type[models.Model], keys: Sequence[str], count: str, rows: Sequence[Sequence[Any]], returning: str = ""
) -> Statement:
    """add_to_counts' statement, for run_together."""
    table = model._meta.db_table
    columns = [*keys, count]
    fields = [cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in columns]
    values = [f.get_db_prep_save(v, connection) for row in rows for f, v in zip(fields, row, strict=True)]
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
    tail = f" RETURNING {returning}" if returning else ""
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {placeholders} ON CONFLICT ({', '.join(keys)}) "
        f"DO UPDATE SET {count} = {table}.{count} + EXCLUDED.{count}{tail}"
    )
    return sql, values


def run_together(statements: Sequence[Statement]) -> list[tuple[Any, ...]]:
    """Run data-modifying statements, in the caller's transaction, as if one after the other, and answer the
    last one's rows (its RETURNING). On PostgreSQL they are one statement, all but the last in a WITH: one
    round trip, and outside a transaction a transaction of its own; none of them sees the others' rows, so a
    foreign key between them must be deferred (as Django's are) and no two may write one row. Elsewhere
    they run in turn, in a transaction."""
    *first, last = statements
    if connection.vendor != "postgresql":
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(*statement)
            return cursor.fetchall() if cursor.description else []
    with connection.cursor() as cursor:
        prefix = ", ".join(f"written_{i} AS ({sql})" for i, (sql, _) in enumerate(first))
        params = [value for _, values in first for value in values]
        cursor.execute(f"WITH {prefix} {last[0]}" if first else last[0], [*params, *last[1]])
        return cursor.fetchall() if cursor.description else []
