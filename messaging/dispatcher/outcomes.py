"""Recording what the gateway answered: SENT, a retry after a backoff, or FAILED, each with its event.

Every write here holds only while the worker still owns the message (status
SENDING, claimed_by the worker): a webhook or another dispatcher that moved it
on meanwhile wins, and the write changes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inboxerr.metrics import MESSAGES
from messaging.backends.base import BaseBackend, GatewayAuthError, SendResult
from messaging.dispatcher import gateway_health
from messaging.dispatcher.claims import Claimed, held_by, release
from messaging.models import EventKind, EventSource, Message, MessageEvent, MessageStatus, OutboundEvent, TallyKind
from messaging.outbound import emit_messages
from messaging.tallies import tally

Status = MessageStatus
STAMPS = {Status.SENT: "sent_at", Status.DELIVERED: "delivered_at", Status.FAILED: "failed_at"}
# What the owner's webhooks are told of a status recorded here.
TOLD = {
    Status.SENT: OutboundEvent.MESSAGE_SENT,
    Status.DELIVERED: OutboundEvent.MESSAGE_DELIVERED,
    Status.FAILED: OutboundEvent.MESSAGE_FAILED,
}
# What a final status found for a message adds to the dashboard's counts (a delivered message was sent).
TALLIED = {
    Status.SENT: (TallyKind.SENT,),
    Status.DELIVERED: (TallyKind.SENT, TallyKind.DELIVERED),
    Status.FAILED: (TallyKind.FAILED,),
}


class Retry(StrEnum):
    """What retry_or_fail did with a message."""

    QUEUED = "queued"  # back in the queue, after a backoff
    FAILED = "failed"  # out of attempts
    LOST = "lost"  # no longer this worker's to move


@dataclass
class Recorded:
    """What one chunk's answers came to."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    auth_refused: bool = False

    def count(self, retry: Retry) -> None:
        if retry == Retry.QUEUED:
            self.retried += 1
        elif retry == Retry.FAILED:
            self.failed += 1


def record(chunk: list[Claimed], results: list[SendResult], *, backend: BaseBackend, worker: str) -> Recorded:
    """Record a chunk's answers in one transaction: repeating it after a lost commit changes nothing."""
    now = timezone.now()
    by_id = {c.id: c for c in chunk}
    accepted = [r for r in results if r.accepted]
    refused = [r for r in results if isinstance(r.error, GatewayAuthError)]
    recorded = Recorded(sent=len(accepted), auth_refused=bool(refused))
    with transaction.atomic():
        if accepted:
            owner_of = {claim.id: claim.owner_id for claim in chunk}
            MESSAGES.labels("sent").inc(
                _mark_sent(accepted, backend=backend, worker=worker, now=now, owner_of=owner_of)
            )
        for result in results:
            if result.error is None or isinstance(result.error, GatewayAuthError):
                continue
            claim = by_id[result.message_id]
            if not result.error.retryable:
                finish(claim, Status.FAILED, worker, error=result.error.reason, kind=EventKind.FAILED)
                recorded.failed += 1
            else:
                recorded.count(retry_or_fail(claim, result.error.reason, worker))
        if refused:
            release([by_id[r.message_id] for r in refused], worker)
            gateway_health.note_auth_refused(refused[0].error.reason if refused[0].error else "")
        elif accepted:
            gateway_health.clear_auth_refused()
    return recorded


def _mark_sent(
    accepted: list[SendResult], *, backend: BaseBackend, worker: str, now: datetime, owner_of: dict[UUID, int]
) -> int:
    """Record SENT for the accepted messages this worker still holds (a webhook may have moved some on)."""
    if connection.vendor == "postgresql":
        still_mine = _sent_with_events(accepted, keep_gateway_ids=backend.reuses_our_ids, worker=worker, now=now)
    else:
        still_mine = _sent_then_events(accepted, keep_gateway_ids=backend.reuses_our_ids, worker=worker, now=now)
    tally(TallyKind.SENT, len(still_mine), at=now)
    # Nothing, and no query, unless one of these messages' owners has an endpoint for it.
    emit_messages(event=OutboundEvent.MESSAGE_SENT, message_ids=still_mine, owner_of=owner_of)
    return len(still_mine)


def _sent_with_events(accepted: list[SendResult], *, keep_gateway_ids: bool, worker: str, now: datetime) -> set[UUID]:
    """One statement: the UPDATE to SENT of the messages this worker holds (its row locks are what a SELECT
    ... FOR UPDATE would take) and the INSERT of their events, the ids as arrays; the ids it moved."""
    message, event = Message._meta.db_table, MessageEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH answered(id, gateway_id) AS (SELECT * FROM unnest(%s::uuid[], %s::text[])),"
            f" sent AS (UPDATE {message} m SET status = %s, sent_at = %s, lease_expires_at = NULL, error = '',"
            f"  updated_at = %s, gateway_message_id = CASE WHEN %s THEN m.gateway_message_id ELSE a.gateway_id END"
            f"  FROM answered a WHERE m.id = a.id AND m.status = %s AND m.claimed_by = %s RETURNING m.id),"
            f" events AS (INSERT INTO {event} (message_id, source, external_id, kind, status, detail, payload,"
            f"  created_at) SELECT id, %s, '', %s, %s, '', '{{}}', %s FROM sent)"
            f" SELECT id FROM sent",
            [
                [r.message_id for r in accepted],
                [r.gateway_id for r in accepted],
                Status.SENT,
                now,
                now,
                keep_gateway_ids,
                Status.SENDING,
                worker,
                EventSource.DISPATCHER,
                EventKind.SENT,
                Status.SENT,
                now,
            ],
        )
        return {row[0] for row in cursor.fetchall()}


def _sent_then_events(accepted: list[SendResult], *, keep_gateway_ids: bool, worker: str, now: datetime) -> set[UUID]:
    """The same in portable steps (SQLite, one writer at a time): lock, update, insert the events."""
    held = held_by(worker, [r.message_id for r in accepted])
    still_mine: set[UUID] = set(held.select_for_update().values_list("id", flat=True))
    common = {"status": Status.SENT, "sent_at": now, "lease_expires_at": None, "error": "", "updated_at": now}
    if keep_gateway_ids:  # the gateway's id is ours: one statement for the whole batch
        held.filter(id__in=still_mine).update(**common)
    else:
        for result in accepted:
            if result.message_id in still_mine:
                held.filter(id=result.message_id).update(gateway_message_id=result.gateway_id, **common)
    MessageEvent.objects.bulk_create(
        [
            MessageEvent(message_id=i, source=EventSource.DISPATCHER, kind=EventKind.SENT, status=Status.SENT)
            for i in still_mine
        ]
    )
    return still_mine


def retry_or_fail(claim: Claimed, reason: str, worker: str) -> Retry:
    """Back to QUEUED after a backoff, marked to be checked with the gateway first: a timeout or a 5xx
    does not say whether the gateway took the message. FAILED once the attempts are spent."""
    if claim.attempts >= settings.SMS_MAX_ATTEMPTS:
        error = f"Gave up after {claim.attempts} attempts: {reason}"
        finish(claim, Status.FAILED, worker, error=error, kind=EventKind.FAILED)
        return Retry.FAILED
    delay = backoff_seconds(claim.attempts)
    now = timezone.now()
    moved = held_by(worker, [claim.id]).update(
        status=Status.QUEUED,
        next_attempt_at=now + timedelta(seconds=delay),
        lease_expires_at=None,
        verify_before_send=True,
        error=reason,
        updated_at=now,
    )
    if moved:
        MESSAGES.labels("retry").inc()
        MessageEvent.objects.create(
            message_id=claim.id,
            source=EventSource.DISPATCHER,
            kind=EventKind.RETRY,
            status=Status.QUEUED,
            detail=f"{reason} (in {delay:.0f} s)",
        )
        return Retry.QUEUED
    return Retry.LOST


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with full jitter between half and all of it, capped."""
    ceiling = min(settings.SMS_RETRY_MAX_SECONDS, settings.SMS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


def finish(
    claim: Claimed, status: Status, worker: str, *, gateway_id: str = "", error: str = "", kind: EventKind
) -> None:
    """A final status (or SENT, for a message found at the gateway), with its event."""
    now = timezone.now()
    fields: dict[str, object] = {"status": status, "lease_expires_at": None, "error": error, "updated_at": now}
    if stamp := STAMPS.get(status):
        fields[stamp] = now
    if gateway_id and gateway_id != str(claim.id):
        fields["gateway_message_id"] = gateway_id
    if held_by(worker, [claim.id]).update(**fields):
        MessageEvent.objects.create(
            message_id=claim.id, source=EventSource.DISPATCHER, kind=kind, status=status, detail=error
        )
        MESSAGES.labels(status.lower()).inc()
        for counted in TALLIED.get(status, ()):
            tally(counted, at=now)
        if told := TOLD.get(status):
            emit_messages(event=told, message_ids=[claim.id], owner_of={claim.id: claim.owner_id})
