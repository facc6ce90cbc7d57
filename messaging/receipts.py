"""Applying gateway events: delivery receipts move message statuses forward, replies opt people out.

Every event is stored first, keyed on (gateway, event id): a retried webhook
finds its event already there and changes nothing. A status only moves
forward; a late `sent` after `delivered` is kept as an event and ignored, and
so is a receipt for a message that was never handed to a gateway.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from imports.phones import InvalidPhone, normalise_phone
from inboxerr.metrics import MESSAGES, WEBHOOK_EVENTS
from messaging.backends.base import WebhookEvent
from messaging.models import EventKind, EventSource, Message, MessageEvent, MessageStatus, OptOut, TallyKind
from messaging.services import opt_out_add
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
}
TALLIED = {Status.DELIVERED: TallyKind.DELIVERED, Status.FAILED: TallyKind.FAILED}
STAMP: dict[str, str] = {Status.SENT: "sent_at", Status.DELIVERED: "delivered_at", Status.FAILED: "failed_at"}
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP"})


class Result(StrEnum):
    """What applying one event did."""

    APPLIED = "applied"  # the message moved on
    LATE = "late"  # the message was already past this status
    DUPLICATE = "duplicate"  # a retried webhook: the event was already stored
    UNKNOWN_MESSAGE = "unknown_message"
    NOT_SENT = "not_sent"  # a receipt for a message no dispatcher ever handed to a gateway
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
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
            return _reply(event, source)
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
    now = timezone.now()
    when = event.occurred_at or now
    counted_as_sent = message.status not in (Status.QUEUED, Status.SENDING)  # the dispatcher tallied it
    message.status = target
    setattr(message, STAMP[target], when)
    if target == Status.DELIVERED and message.sent_at is None:
        message.sent_at = when  # it was sent, whether or not the `sent` receipt came first
    if target in (Status.SENT, Status.DELIVERED) and not counted_as_sent:
        tally(TallyKind.SENT, at=when)
    if target in TALLIED:
        tally(TALLIED[target], at=when)
    if target == Status.FAILED:
        message.error = event.error or "The gateway reported a failure."
    message.lease_expires_at = None
    message.save(
        update_fields=["status", "sent_at", "delivered_at", "failed_at", "error", "lease_expires_at", "updated_at"]
    )
    record.status = target
    record.save(update_fields=["status"])
    return Outcome(Result.APPLIED, str(message.pk))


def _reply(event: WebhookEvent, source: EventSource) -> Outcome:
    """STOP and friends opt the sender out of whoever messaged them; START opts back in."""
    words = event.text.strip().upper().split()
    keyword = words[0] if words else ""
    if keyword not in STOP_WORDS | START_WORDS or not event.phone:
        return Outcome(Result.IGNORED)
    try:
        phone = normalise_phone(event.phone, settings.PHONE_DEFAULT_REGION)
    except InvalidPhone:
        return Outcome(Result.IGNORED)
    senders = Message.objects.filter(phone=phone).exclude(sent_at=None).order_by("-sent_at")
    if keyword == "STOPALL":
        owners = set(senders.values_list("owner_id", flat=True))
    else:
        owners = set(senders.values_list("owner_id", flat=True)[:1])
    if not owners:
        log.info("reply %s from %s: nobody here has messaged that number", keyword, phone)
        return Outcome(Result.IGNORED)
    if keyword in START_WORDS:
        OptOut.objects.filter(owner_id__in=owners, phone=phone).delete()
        return Outcome(Result.OPTED_IN)
    for owner_id in owners:
        opt_out_add(owner_id=owner_id, phone=phone, source=source, keyword=keyword)
    return Outcome(Result.OPTED_OUT)
