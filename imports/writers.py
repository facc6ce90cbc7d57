"""Writing an import's contacts: batch inserts and batched deletes.

A phone already in the import is skipped by the (import_job, phone) unique
constraint, so duplicates across batches cost no memory, and the rows actually
inserted are counted exactly.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection

from imports.layout import Layout
from imports.models import Contact
from imports.phones import Phone
from imports.rows import ParsedContact
from inboxerr.bulk import insert_counting_by, insert_returning_kept

TABLE = Contact._meta.db_table
COLUMNS = ("owner_id", "import_job_id", "phone", "name", "variables", "row_number", "line_type", "phone_column")
NAMES = ", ".join(COLUMNS)
# Where a batch's contacts are COPYed before they go in: the session's own, emptied at each commit.
STAGE = "import_contacts_staged"
# JSON text of a string, as json.dumps(..., ensure_ascii=False) writes it (C-accelerated).
_json_string = json.encoder.encode_basestring
# What COPY's text format escapes (the delimiter, line ends, and its escape character).
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# How many contacts of each line type went in, by LineType value.
LineTypeCounts = dict[str, int]


def insert_contacts(*, job_id: int, owner_id: int, contacts: Sequence[ParsedContact]) -> LineTypeCounts:
    """Insert the batch inside the caller's transaction; returns how many rows of each line type were new."""
    _no_flush_wait()
    return insert_counting_by(model=Contact, columns=COLUMNS, rows=_rows(job_id, owner_id, contacts),
                              order_by="row_number", count_by="line_type")  # fmt: skip


def insert_contacts_finding_repeats(
    *, job_id: int, owner_id: int, contacts: Sequence[ParsedContact]
) -> tuple[LineTypeCounts, list[dict[str, Any]]]:
    """As insert_contacts, also answering each row left out as a repeat, with the row whose phone was kept:
    the insert says which rows went in, so only the few repeated phones are looked up."""
    _no_flush_wait()
    kept = set(insert_returning_kept(model=Contact, columns=COLUMNS, rows=_rows(job_id, owner_id, contacts),
                                     order_by="row_number", returning="row_number"))  # fmt: skip
    inserted = dict(Counter(c.line_type for c in contacts if c.row_number in kept))
    repeats = [c for c in contacts if c.row_number not in kept]
    if not repeats:
        return inserted, []
    first = dict(
        Contact.objects.filter(import_job_id=job_id, phone__in={c.phone for c in repeats}).values_list(
            "phone", "row_number"
        )
    )
    return inserted, [{"row": c.row_number, "phone": c.phone, "first_row": first.get(c.phone)} for c in repeats]


def _rows(job_id: int, owner_id: int, contacts: Sequence[ParsedContact]) -> Iterator[tuple[Any, ...]]:
    # Within a batch too, the first row of a phone is the one kept (inserted in row order).
    return (
        (owner_id, job_id, c.phone, c.name, c.variables, c.row_number, c.line_type, c.phone_column) for c in contacts
    )


class CopyRows:
    """An import's contacts as the lines of COPY's text format, made beside the parsing (in the reader process)
    so that the writer only hands them to PostgreSQL: a line costs about a microsecond, not the several that
    JSON-encoding a dict and formatting a tuple of values cost."""

    def __init__(self, *, owner_id: int, job_id: int, layout: Layout):
        self.start = f"{owner_id}\t{job_id}\t"
        keys = [key for _, key in layout.variables]
        # The variables' keys are the same in every row: one template, each value encoded into it.
        template = ", ".join(f"{_json_string(key).replace('%', '%%')}: %s" for key in keys)
        self.variables = "{" + template + "}" if keys else ""
        self.columns = {layout.column_name(s.index): _copy_text(layout.column_name(s.index))
                        for s in layout.phone_sources}  # fmt: skip

    def line(self, contact: ParsedContact) -> str:
        return self.line_of(
            contact.row_number,
            Phone(contact.phone, contact.line_type),
            contact.name,
            list(contact.variables.values()),
            contact.phone_column,
        )

    def line_of(self, row_number: int, phone: Phone, name: str, values: list[str], column: str) -> str:
        """The line of one contact, from RowConverter.read_row's values."""
        if "\\" in name or not name.isprintable():
            name = _copy_text(name)
        if self.variables:
            variables = self.variables % tuple(map(_json_string, values))
            if "\\" in variables:  # JSON's own escapes (\", \n, \\): the backslash is COPY's escape too
                variables = variables.replace("\\", "\\\\")
        else:
            variables = "{}"
        return f"{self.start}{phone[0]}\t{name}\t{variables}\t{row_number}\t{phone[1]}\t{self.columns[column]}\n"


def _copy_text(text: str) -> str:
    return text.translate(_COPY_ESCAPES)


def copy_contacts(*, job_id: int, lines: bytes, count: int, repeats_wanted: int) -> tuple[LineTypeCounts, list[dict]]:
    """Insert a batch given as COPY lines (CopyRows), in the caller's transaction: COPY into a staging table,
    then one INSERT ... SELECT in row order, skipping phones the import already has. Returns how many went in
    of each line type and, up to repeats_wanted, the rows left out as repeats with the row whose phone was kept."""
    with connection.cursor() as cursor:
        # One round trip: these take no parameters. Emptied here too: inside an outer transaction (a savepoint),
        # ON COMMIT has not fired since the last batch.
        cursor.execute(
            "SET LOCAL synchronous_commit = off; "  # see _no_flush_wait
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ON COMMIT DELETE ROWS AS SELECT {NAMES} FROM {TABLE} "
            f"WITH NO DATA; TRUNCATE {STAGE}"
        )
        with cursor.cursor.copy(f"COPY {STAGE} ({NAMES}) FROM STDIN") as copy:
            copy.write(lines)
        cursor.execute(
            f"WITH kept AS (INSERT INTO {TABLE} ({NAMES}) SELECT {NAMES} FROM {STAGE} ORDER BY row_number "
            "ON CONFLICT DO NOTHING RETURNING line_type) SELECT line_type, count(*) FROM kept GROUP BY line_type"
        )
        inserted: LineTypeCounts = dict(cursor.fetchall())
        if repeats_wanted <= 0 or sum(inserted.values()) == count:
            return inserted, []
        # A staged row whose phone the import holds under another row is a repeat of that row.
        cursor.execute(
            f"SELECT s.row_number, s.phone, c.row_number FROM {STAGE} s JOIN {TABLE} c "
            "ON c.import_job_id = %s AND c.phone = s.phone AND c.row_number <> s.row_number "
            "ORDER BY s.row_number LIMIT %s",
            [job_id, repeats_wanted],
        )
        return inserted, [{"row": row, "phone": phone, "first_row": first} for row, phone, first in cursor.fetchall()]


def _no_flush_wait() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Don't wait for the WAL flush at each batch's commit: if the server crashes and
            # loses the last batches, the job's heartbeat stops and the import restarts from
            # its first row, so nothing half-done is ever taken for finished.
            cursor.execute("SET LOCAL synchronous_commit = off")


def delete_contacts(*, job_id: int, batch_size: int = 20_000) -> int:
    """Delete an import's contacts in short transactions, without loading them into memory."""
    deleted = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"DELETE FROM {TABLE} WHERE id IN (SELECT id FROM {TABLE} WHERE import_job_id = %s LIMIT %s)",
                [job_id, batch_size],
            )
            deleted += cursor.rowcount
            if cursor.rowcount < batch_size:
                return deleted
