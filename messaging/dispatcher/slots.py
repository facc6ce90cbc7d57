"""How many dispatchers run at once, across every node: SMS_DISPATCHERS slots.

A dispatch task takes a free slot or does nothing. While it holds one and finds
a full batch due, it queues one more dispatch task, which takes the next slot
or, when all are taken, ends at once. So a backlog draws in up to
SMS_DISPATCHERS dispatchers on whatever worker nodes are free, and a trickle
keeps one. The slots are PostgreSQL session advisory locks: a dispatcher that
dies frees its slot with its connection, and no table row is ever left
claiming a slot nobody holds; one that reconnects after losing the database
takes its slot again.

SQLite is one machine with one writer at a time: there the slots are not kept
and no extra dispatcher is recruited, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

log = logging.getLogger(__name__)

# First key of the slots' advisory locks (the second is the slot's number): "SMSD".
LOCK_NAMESPACE = 0x534D5344


def slots_enforced() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def dispatcher_slot() -> Iterator[int | None]:
    """A free slot's number for the duration of the block, or None when all are taken."""
    if not slots_enforced():
        yield 0
        return
    slot = _take_free_slot()
    if slot is None:
        yield None
        return

    def take_it_again(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
        # The dispatcher reconnects after losing the database, and the lock went with the old session.
        if connection is connections[DEFAULT_DB_ALIAS] and not _try_lock(connection, slot):
            log.warning("dispatcher: slot %s was taken while the database was away; finishing this run anyway", slot)

    connection_created.connect(take_it_again, weak=False)
    try:
        yield slot
    finally:
        connection_created.disconnect(take_it_again)
        _give_back(slot)


def _take_free_slot() -> int | None:
    for slot in range(max(settings.SMS_DISPATCHERS, 1)):
        if _try_lock(connection, slot):
            return slot
    return None


def _try_lock(conn: BaseDatabaseWrapper, slot: int) -> bool:
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, slot])
        return bool(cursor.fetchone()[0])


def _give_back(slot: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, slot])
    except DatabaseError:
        # The connection went away during the run (and its locks with it): nothing is left to free.
        log.info("dispatcher: slot %s was freed with its lost connection", slot)
