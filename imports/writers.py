"""Batch inserts of parsed contacts, the fastest way each database offers.

PostgreSQL: COPY into a session-local staging table, then one INSERT ... SELECT
... ON CONFLICT DO NOTHING. SQLite: one executemany of INSERT ... ON CONFLICT DO
NOTHING. Either way a phone already in the import is skipped by the unique
constraint, so duplicates across batches cost no memory, and the rows actually
inserted are counted exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection

from imports.models import Contact
from imports.rows import ParsedContact

TABLE = Contact._meta.db_table
COLUMNS = "owner_id, import_job_id, phone, name, variables, row_number"
STAGE = "imports_contact_stage"


def insert_contacts(*, job_id: int, owner_id: int, contacts: Sequence[ParsedContact]) -> int:
    """Insert the batch inside the caller's transaction; returns how many rows were new."""
    if not contacts:
        return 0
    if connection.vendor == "postgresql":
        return _insert_postgresql(job_id, owner_id, contacts)
    return _insert_generic(job_id, owner_id, contacts)


def _insert_postgresql(job_id: int, owner_id: int, contacts: Sequence[ParsedContact]) -> int:
    assert connection.in_atomic_block, "the batch and its counters commit together: call inside a transaction"
    with connection.cursor() as cursor:
        # Don't wait for the WAL flush at each batch's commit: if the server crashes and
        # loses the last batches, the job's heartbeat stops and the import restarts from
        # its first row, so nothing half-done is ever taken for finished.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} "
            "(row_number integer, phone text, name text, variables jsonb) ON COMMIT DELETE ROWS"
        )
        # Empty it first: inside an outer transaction (a savepoint) ON COMMIT has not fired yet.
        cursor.execute(f"TRUNCATE {STAGE}")
        with cursor.cursor.copy(f"COPY {STAGE} (row_number, phone, name, variables) FROM STDIN") as copy:
            for c in contacts:
                copy.write_row((c.row_number, c.phone, c.name, json.dumps(c.variables, ensure_ascii=False)))
        # ORDER BY: within a batch too, the first row of a phone is the one kept.
        cursor.execute(
            f"INSERT INTO {TABLE} ({COLUMNS}) "
            f"SELECT %s, %s, phone, name, variables, row_number FROM {STAGE} ORDER BY row_number "
            "ON CONFLICT (import_job_id, phone) DO NOTHING",
            [owner_id, job_id],
        )
        return cursor.rowcount


def _insert_generic(job_id: int, owner_id: int, contacts: Sequence[ParsedContact]) -> int:
    rows = [
        (owner_id, job_id, c.phone, c.name, json.dumps(c.variables, ensure_ascii=False), c.row_number) for c in contacts
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {TABLE} ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (import_job_id, phone) DO NOTHING",
            rows,
        )
        return cursor.rowcount


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
