"""Writing an import's contacts: batch inserts and batched deletes.

A phone already in the import is skipped by the (import_job, phone) unique
constraint, so duplicates across batches cost no memory, and the rows actually
inserted are counted exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection

from imports.models import Contact
from imports.rows import ParsedContact
from inboxerr.bulk import insert_counting_by, insert_returning_kept

TABLE = Contact._meta.db_table
COLUMNS = ("owner_id", "import_job_id", "phone", "name", "variables", "row_number", "line_type", "phone_column")
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
