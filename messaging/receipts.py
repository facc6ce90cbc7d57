"""Applying gateway events: delivery receipts move message statuses forward, received messages go to the inbox.

Every event is stored first, keyed on (gateway, event id): a retried webhook
finds its event already there and changes nothing. A status only moves
forward; a late `sent` after `delivered` is kept as an event and ignored, and
so is a receipt for a message that was never handed to a gateway. A message
sent in several parts is DELIVERED once every part is, FAILED when one fails.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.db import IntegrityError, transaction
from django.utils import timezone

from inboxerr.metrics import MESSAGES, WEBHOOK_EVENTS
from messaging import inbox, outbound
from messaging.backends.base import WebhookEvent
from messaging.models import EventKind, EventSource, Message, MessageEvent, MessageStatus, OutboundEvent, TallyKind
from messaging.tallies import tally

log = logging.getLogger(__name__)
Status = Message.Status

RANK: dict[str, int] = {
    Status.QUEUED: 0,
    Status.SENDING: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.FAILED: 3,
    Status.CANCELLED: 3,
}
TARGET: dict[str, MessageStatus] = {
    EventKind.SENT: Status.SENT,
    EventKind.DELIVERED: Status.DELIVERED,
    EventKind.FAILED: Status.FAILED,
    EventKind.CANCELLED: Status.CANCELLED,
}
# What a program subscribed to our webhooks is told when a receipt moves a message on.
TOLD = {
    Status.SENT: OutboundEvent.MESSAGE_SENT,
    Status.DELIVERED: OutboundEvent.MESSAGE_DELIVERED,
    Status.FAILED: OutboundEvent.MESSAGE_FAILED,
}
# android's: an MMS's text and attachments, after its mms:received.
MMS_DOWNLOADED = "mms:downloaded"
TALLIED = {Status.DELIVERED: TallyKind.DELIVERED, Status.FAILED: TallyKind.FAILED}
STAMP: dict[str, str] = {Status.SENT: "sent_at", Status.DELIVERED: "delivered_at", Status.FAILED: "failed_at"}


class Result(StrEnum):
    """What applying one event did."""

    APPLIED = "applied"  # the message moved on
    LATE = "late"  # the message was already past this status
    DUPLICATE = "duplicate"  # a retried webhook: the event was already stored
    UNKNOWN_MESSAGE = "unknown_message"
    NOT_SENT = "not_sent"  # a receipt for a message no dispatcher ever handed to a gateway
    PART_DELIVERED = "part_delivered"  # one part of a long message; the others are still on their way
    RECEIVED = "received"  # a message to the inbox
    IGNORED = "ignored"


@dataclass(frozen=True)
class Outcome:
    result: Result
    message_id: str = ""


def apply_events(*, source: EventSource, events: list[WebhookEvent]) -> list[Outcome]:
    outcomes = [apply_event(source=source, event=event) for event in events]
    for event, outcome in zip(events, outcomes, strict=True):
        WEBHOOK_EVENTS.labels(source, event.kind, outcome.result).inc()
        if outcome.result == Result.APPLIED and event.kind in (EventKind.DELIVERED, EventKind.FAILED):
            MESSAGES.labels(TARGET[event.kind].lower()).inc()
    return outcomes


def apply_event(*, source: EventSource, event: WebhookEvent) -> Outcome:
    with transaction.atomic():
        message = _find_message(event) if event.kind in TARGET else None
        record = MessageEvent(
            message=message,
            source=source,
            external_id=event.event_id[:100],
            kind=event.kind[:40],
            status=message.status if message else "",
            detail=event.error or event.text[:200],
            payload=event.payload,
        )
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError:
            return Outcome(Result.DUPLICATE)

        if event.kind in TARGET:
            if message is None:
                log.info(
                    "webhook %s: %s for unknown message %r", source, event.kind, event.message_id or event.gateway_id
                )
                return Outcome(Result.UNKNOWN_MESSAGE)
            return _advance(message, TARGET[event.kind], event, record)
        if event.kind == EventKind.RECEIVED:
            received = inbox.receive(source=source, event=event)
            return Outcome(Result.RECEIVED if received else Result.DUPLICATE)
        if event.kind == MMS_DOWNLOADED:
            inbox.fill_in_body(source=source, gateway_message_id=event.gateway_message_id, body=event.text)
        return Outcome(Result.IGNORED)


def _find_message(event: WebhookEvent) -> Message | None:
    messages = Message.objects.select_for_update()
    if event.message_id:
        try:
            return messages.filter(pk=uuid.UUID(event.message_id)).first()
        except ValueError:  # not a UUID: not one of ours; try the gateway's own id below
            pass
    if event.gateway_id:
        return messages.filter(gateway_message_id=event.gateway_id).first()
    return None


def _advance(message: Message, target: MessageStatus, event: WebhookEvent, record: MessageEvent) -> Outcome:
    if message.status == Status.QUEUED and message.attempts == 0:
        # Never claimed, so never sent: whatever signed this, it is kept as an event and changes nothing.
        log.warning("webhook: %s for message %s, which was never sent; ignored", event.kind, message.pk)
        return Outcome(Result.NOT_SENT, str(message.pk))
    if RANK[target] <= RANK[message.status]:
        return Outcome(Result.LATE, str(message.pk))
    if target == Status.DELIVERED:
        delivered, parts = _parts_delivered(message)
        if delivered < parts:
            # One part of a long message: it is sent, and delivered once every part is.
            record.detail = f"Part {delivered} of {parts} delivered."
            record.save(update_fields=["detail"])
            if message.status != Status.SENT:
                _advance(message, Status.SENT, event, record)
            return Outcome(Result.PART_DELIVERED, str(message.pk))
    now = timezone.now()
    when = event.occurred_at or now
    counted_as_sent = message.status not in (Status.QUEUED, Status.SENDING)  # the dispatcher tallied it
    message.status = target
    if target in STAMP:  # a cancelled message keeps the times it had
        setattr(message, STAMP[target], when)
    if target == Status.DELIVERED and message.sent_at is None:
        message.sent_at = when  # it was sent, whether or not the `sent` receipt came first
    if target in (Status.SENT, Status.DELIVERED) and not counted_as_sent:
        tally(TallyKind.SENT, at=when)
    if target in TALLIED:
        tally(TALLIED[target], at=when)
    if target == Status.FAILED:
        message.error = event.error or "The gateway reported a failure."
    if target == Status.CANCELLED:
        message.error = event.error or "Cancelled at the gateway."
    message.lease_expires_at = None
    message.save(
        update_fields=["status", "sent_at", "delivered_at", "failed_at", "error", "lease_expires_at", "updated_at"]
    )
    record.status = target
    record.save(update_fields=["status"])
    if target in TOLD:
        outbound.emit_message(event=TOLD[target], message=message)
    return Outcome(Result.APPLIED, str(message.pk))


def _parts_delivered(message: Message) -> tuple[int, int]:
    """(parts delivered so far, parts it was sent in): the gateway reports each part of a long message
    apart, under one message id; its `sent` event says how many parts it made, else ours is the count."""
    # One read of its delivered and sent events: the receipt path runs once per part of every message.
    events = MessageEvent.objects.filter(message=message, kind__in=(EventKind.DELIVERED, EventKind.SENT))
    kinds_and_parts = list(events.order_by("id").values_list("kind", "payload__payload__partsCount"))
    delivered = sum(1 for kind, _ in kinds_and_parts if kind == EventKind.DELIVERED)
    said = next((parts for kind, parts in kinds_and_parts if kind == EventKind.SENT), None)
    parts = said if isinstance(said, int) and not isinstance(said, bool) and 0 < said < 256 else message.parts_count
    return delivered, parts
