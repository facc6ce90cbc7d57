"""django-q2 entry points of the outbound webhooks, and how they are queued (by function, never by path).

At most WEBHOOK_WORKERS delivery tasks run at once across every node (PostgreSQL advisory locks, freed
with a dead worker's connection): a slow receiver holds at most that many workers, never the dispatchers'.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django_q.tasks import async_task

from inboxerr import debounce
from messaging.outbound import delivery

# At most one delivery task is queued per this many seconds, however many events are written.
KICK_DEBOUNCE_SECONDS = 1
# First key of the delivery slots' advisory locks: "WHKS".
LOCK_NAMESPACE = 0x57484B53


def deliver_webhooks() -> dict[str, Any]:
    """Deliver what is due for up to WEBHOOK_RUN_SECONDS in one of the WEBHOOK_WORKERS slots (or, with all
    of them taken, do nothing); queue the next run when more is due."""
    with _slot() as slot:
        if slot is None:
            return {"stopped": "all webhook delivery slots taken"}
        report = delivery.deliver_due()
    # Events written while this run was ending found the slot taken: one more run takes them.
    if report.stopped != delivery.StopReason.IDLE or delivery.has_due():
        async_task(deliver_webhooks, group="webhooks")
    return {"slot": slot, **asdict(report)}


def webhooks_tick() -> dict[str, Any]:
    """Every minute: retries come due, and the tidying of the delivery log."""
    return {**delivery.tidy(), **deliver_webhooks()}


def kick_delivery() -> None:
    """Queue a delivery run once the current transaction commits; debounced, so a flood of events costs one task."""
    transaction.on_commit(_enqueue)


def _enqueue() -> None:
    if debounce.first_in("messaging:webhooks-kick", KICK_DEBOUNCE_SECONDS):
        async_task(deliver_webhooks, group="webhooks")


@contextmanager
def _slot() -> Iterator[int | None]:
    if connection.vendor != "postgresql":  # one machine: one run at a time is the database's doing
        yield 0
        return
    taken = None
    for slot in range(max(settings.WEBHOOK_WORKERS, 1)):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, slot])
            if cursor.fetchone()[0]:
                taken = slot
                break
    try:
        yield taken
    finally:
        if taken is not None:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, taken])
            except DatabaseError:
                pass  # the connection was lost during the run, and the lock with it
