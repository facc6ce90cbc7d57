"""Writing an import's contacts: batch inserts and batched deletes.

A phone already in the import is skipped by the (import_job, phone) unique
constraint, so duplicates across batches cost no memory, and the rows actually
inserted are counted exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from imports.models import Contact
from imports.rows import ParsedContact
from inboxerr.bulk import insert_ignoring_conflicts

TABLE = Contact._meta.db_table
COLUMNS = ("owner_id", "import_job_id", "phone", "name", "variables", "row_number")


def insert_contacts(*, job_id: int, owner_id: int, contacts: Sequence[ParsedContact]) -> int:
    """Insert the batch inside the caller's transaction; returns how many rows were new."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Don't wait for the WAL flush at each batch's commit: if the server crashes and
            # loses the last batches, the job's heartbeat stops and the import restarts from
            # its first row, so nothing half-done is ever taken for finished.
            cursor.execute("SET LOCAL synchronous_commit = off")
    return insert_ignoring_conflicts(
        model=Contact,
        columns=COLUMNS,
        rows=((owner_id, job_id, c.phone, c.name, c.variables, c.row_number) for c in contacts),
        # Within a batch too, the first row of a phone is the one kept.
        order_by="row_number",
    )


def find_duplicates(*, job_id: int, contacts: Sequence[ParsedContact]) -> list[dict[str, Any]]:
    """The rows of `contacts` that were not kept, each with the row whose phone was kept (just inserted)."""
    kept = dict(
        Contact.objects.filter(import_job_id=job_id, phone__in={c.phone for c in contacts}).values_list(
            "phone", "row_number"
        )
    )
    return [
        {"row": c.row_number, "phone": c.phone, "first_row": kept[c.phone]}
        for c in contacts
        if c.phone in kept and kept[c.phone] != c.row_number
    ]


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
