"""Claims and leases: which dispatcher holds which message, and until when.

A claim is one statement, UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
LOCKED LIMIT n) RETURNING ..., so no two dispatchers ever hold the same
message. It is a lease: a dispatcher that dies leaves its messages SENDING
until the lease expires; they then go back to QUEUED marked
verify_before_send, and whoever claims them next asks the gateway whether it
already has them before sending.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from messaging.backends.base import OutgoingSMS
from messaging.models import Message
from messaging.quotas import refund

log = logging.getLogger(__name__)
Status = Message.Status

# Conditions other apps add to every claim: a message matching one of them waits. Campaigns adds
# "its campaign is paused or cancelled" in its AppConfig.ready, so messaging never reads a campaign's status.
_holds: list[Q] = []


def hold_back_from_claims(condition: Q) -> None:
    """Never claim a message matching `condition` (a Q on Message), however due it is."""
    if condition not in _holds:
        _holds.append(condition)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Claimed:
    id: UUID
    owner_id: int
    phone: str
    content: str
    parts: int
    attempts: int
    verify_before_send: bool
    gateway_id: str
    campaign_id: int | None = None
    send_window: str = ""
    charged: bool = False  # counted against its owner's quota by this claim: given back if it goes back unsent
    leased_until: datetime | None = None  # by this worker's clock; no one else may take it before then

    @property
    def first_attempt(self) -> bool:
        return self.attempts == 1 and not self.verify_before_send

    def outgoing(self) -> OutgoingSMS:
        return OutgoingSMS(id=self.id, phone=self.phone, text=self.content, parts=self.parts)


def claim_due(*, worker: str, limit: int, now: datetime | None = None) -> list[Claimed]:
    """Claim up to `limit` due QUEUED messages: each owner's oldest first, the batch shared between the owners
    with one due, so one user's backlog never holds back another's message. One statement after finding the
    owners, and a second only when an owner with fewer due than its share left room for the others."""
    now = now or timezone.now()
    # held=False matches message_owner_due_idx, which leaves out paused campaigns' messages; the holds
    # still apply, for the moments before a pause's messages are marked held.
    due = Message.objects.filter(status=Status.QUEUED, held=False, next_attempt_at__lte=now)
    for condition in _holds:
        due = due.exclude(condition)
    if connection.vendor != "postgresql":  # one writer at a time (SQLite): the oldest due, whoever's
        return _claim(due.order_by("next_attempt_at").values("id")[:limit].query.sql_with_params, worker, now)
    owners = _owners_with_due(now)
    if not owners:
        return []
    claimed = _claim(partial(_shared_between, owners, due, limit), worker, now)
    # Owners with fewer due than their share left room: the owners that filled theirs may have more.
    share = _share(limit, owners)
    taken = Counter(c.owner_id for c in claimed)
    fuller = [owner for owner in owners if taken[owner] >= share]
    if len(claimed) < limit and len(fuller) < len(owners) and fuller:
        claimed += _claim(partial(_shared_between, fuller, due, limit - len(claimed)), worker, now)
    return claimed


def _owners_with_due(now: datetime) -> list[int]:
    """The owners with a due message, found in a walk of message_owner_due_idx that visits each owner once
    (PostgreSQL has no skip scan): a handful of index probes, however many messages each owner has queued."""
    table = Message._meta.db_table
    waiting = f"status = '{Status.QUEUED}' AND NOT held"
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE owners(owner_id) AS ("
            f" (SELECT owner_id FROM {table} WHERE {waiting} ORDER BY owner_id LIMIT 1)"
            f" UNION ALL SELECT (SELECT owner_id FROM {table} WHERE {waiting} AND owner_id > owners.owner_id"
            f"  ORDER BY owner_id LIMIT 1) FROM owners WHERE owners.owner_id IS NOT NULL)"
            f" SELECT owner_id FROM owners WHERE owner_id IS NOT NULL AND EXISTS ("
            f"  SELECT 1 FROM {table} m WHERE m.owner_id = owners.owner_id AND {waiting} AND next_attempt_at <= %s)",
            [now],
        )
        return [row[0] for row in cursor.fetchall()]


def _shared_between(owners: list[int], due: QuerySet[Message], limit: int) -> tuple[str, tuple[Any, ...]]:
    """Ids of up to `limit` due messages, locked, an equal share of them from each owner (each share its
    owner's oldest), the owners taken in a random order so that no one comes first in every claim. Each share
    is a walk of message_owner_due_idx from that owner's oldest."""
    share = _share(limit, owners)
    per_owner = (
        due.filter(owner_id=RawSQL("o.owner_id", ()))
        .order_by("next_attempt_at")
        .values("id")[:share]
        .select_for_update(skip_locked=True, of=("self",))
    )
    sql, params = per_owner.query.sql_with_params()
    return (
        f"SELECT c.id FROM (SELECT owner_id FROM unnest(%s::integer[]) AS u(owner_id) ORDER BY random()) o "
        f"CROSS JOIN LATERAL ({sql}) c LIMIT %s",
        (owners, *params, limit),
    )


def _share(limit: int, owners: list[int]) -> int:
    return -(-limit // len(owners))


def _claim(select: Callable[[], tuple[str, Sequence[Any]]], worker: str, now: datetime) -> list[Claimed]:
    """Lease the messages the query `select()` compiles to (ids, locked) to `worker`, in one statement."""
    lease = now + timedelta(seconds=settings.SMS_LEASE_SECONDS)
    with transaction.atomic(), connection.cursor() as cursor:
        subquery, params = select()  # FOR UPDATE compiles only inside a transaction
        cursor.execute(
            f"UPDATE {Message._meta.db_table} SET status = %s, lease_expires_at = %s, claimed_by = %s, "
            f"attempts = attempts + 1, waiting = '', updated_at = %s WHERE id IN ({subquery}) "
            "RETURNING id, owner_id, phone, content, parts_count, attempts, verify_before_send, gateway_message_id, "
            "campaign_id, send_window",
            [Status.SENDING, _db(lease), worker, _db(now), *params],
        )
        rows = cursor.fetchall()
    return [
        Claimed(_uuid(r[0]), r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8], r[9], leased_until=lease)
        for r in rows
    ]


def held_by(worker: str, ids: list[UUID]) -> Any:
    """The messages among `ids` that `worker` still holds: a lease may have run out and been taken since."""
    return Message.objects.filter(id__in=ids, status=Status.SENDING, claimed_by=worker)


def renew_leases(chunk: list[Claimed], worker: str) -> list[Claimed]:
    """Extend the leases right before sending; the claims this worker no longer holds are dropped.

    Leases with more than half their time left are still this worker's (only an expired lease is taken back:
    release_expired_leases), so a fresh claim goes out without a statement; half the lease is the margin for
    the clocks of the nodes that release expired leases."""
    now = timezone.now()
    margin = timedelta(seconds=settings.SMS_LEASE_SECONDS / 2)
    if all(c.leased_until is not None and c.leased_until - now > margin for c in chunk):
        return chunk
    lease = now + timedelta(seconds=settings.SMS_LEASE_SECONDS)
    held = held_by(worker, [c.id for c in chunk])
    with transaction.atomic():
        still_mine = set(held.select_for_update().values_list("id", flat=True))
        held.filter(id__in=still_mine).update(lease_expires_at=lease)
    if len(still_mine) < len(chunk):
        log.warning(
            "dispatcher %s: %d lease(s) lost before sending; not sending those", worker, len(chunk) - len(still_mine)
        )
    return [dataclasses.replace(c, leased_until=lease) for c in chunk if c.id in still_mine]


def release(
    claims: list[Claimed], worker: str, *, after: float | None = None, until: datetime | None = None, waiting: str = ""
) -> None:
    """Back to QUEUED without counting the attempt (it never reached the gateway), due again `until`, or
    `after` seconds from now (by default once the pause after a refusal of our credentials is over); `waiting`
    says why, when a safeguard holds it. Quota counted for them by this claim is given back."""
    if claims:
        now = timezone.now()
        if until is None:
            until = now + timedelta(seconds=settings.SMS_AUTH_RETRY_SECONDS if after is None else after)
        held_by(worker, [c.id for c in claims]).update(
            status=Status.QUEUED,
            attempts=F("attempts") - 1,
            lease_expires_at=None,
            next_attempt_at=until,
            waiting=waiting,
            updated_at=now,
        )
        charged: dict[int, int] = {}
        for claim in claims:
            if claim.charged:
                charged[claim.owner_id] = charged.get(claim.owner_id, 0) + claim.parts
        if charged:
            refund(charged)


def release_expired_leases(*, now: datetime | None = None) -> int:
    """SENDING messages whose lease ran out go back to QUEUED, to be checked with the gateway before resending."""
    now = now or timezone.now()
    return Message.objects.filter(status=Status.SENDING, lease_expires_at__lt=now).update(
        status=Status.QUEUED,
        verify_before_send=True,
        claimed_by="",
        lease_expires_at=None,
        next_attempt_at=now,
        updated_at=now,
    )


def _db(value: datetime) -> Any:
    """A datetime as the database driver wants it in raw SQL."""
    return value if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(value)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
