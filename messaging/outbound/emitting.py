"""Reporting an event: one delivery per subscribed endpoint, written in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.utils import timezone

from messaging.models import InboundMessage, Message, OutboundEvent, WebhookDelivery
from messaging.outbound import subscribers
from messaging.outbound.events import MESSAGE_FIELDS, envelope, inbound_data, message_data
from messaging.outbound.tasks import kick_delivery


def wants(*, owner_id: int | None, event: str) -> bool:
    """Whether any active endpoint of the owner takes `event`: no query (see `subscribers`)."""
    return owner_id is not None and owner_id in subscribers.endpoints_for(event)


def emit(*, owner_id: int | None, event: str, data: dict[str, Any]) -> int:
    """Tell the owner's endpoints subscribed to `event` about it (`data`: JSON, or datetimes, UUIDs and
    decimals, which are written as text). Call it inside the transaction that did what it reports: a
    rollback takes the deliveries with it. Returns how many deliveries were written."""
    return emit_many(event=event, items=[(owner_id, data)])


def emit_many(*, event: str, items: Iterable[tuple[int | None, dict[str, Any]]]) -> int:
    """`emit` for many (owner id, data) at once: one INSERT; nothing at all for owners nobody subscribed."""
    endpoints = subscribers.endpoints_for(event)
    if not endpoints:
        return 0
    now = timezone.now()
    deliveries = []
    for owner_id, data in items:
        if owner_id is None or owner_id not in endpoints:
            continue
        event_id = uuid.uuid4()
        payload = envelope(event_id=event_id, event=event, created_at=now, data=data)
        deliveries += [
            WebhookDelivery(
                endpoint_id=endpoint_id, event_id=event_id, event=event, payload=payload, next_attempt_at=now
            )
            for endpoint_id in endpoints[owner_id]
        ]
    return _write(deliveries)


def emit_messages(
    *, event: str, message_ids: Collection[uuid.UUID], owner_of: Mapping[uuid.UUID, int] | None = None
) -> int:
    """A message event for many messages (the dispatcher's batch): their data read in one query, and only
    when some owner subscribed to `event`. With `owner_of` (message id -> owner id, when the caller knows
    it), the messages of owners nobody subscribed are left out before any query."""
    endpoints = subscribers.endpoints_for(event)
    if not endpoints or not message_ids:
        return 0
    if owner_of is not None:
        message_ids = [i for i in message_ids if owner_of.get(i) in endpoints]
        if not message_ids:
            return 0
    rows = Message.objects.filter(id__in=message_ids, owner_id__in=list(endpoints)).values("owner_id", *MESSAGE_FIELDS)
    return emit_many(event=event, items=((row["owner_id"], message_data(row)) for row in rows))


def emit_message(*, event: str, message: Message) -> int:
    """A message event for one message, from the instance (as it is now: save it first)."""
    if not wants(owner_id=message.owner_id, event=event):
        return 0
    return emit(owner_id=message.owner_id, event=event, data=message_data(message))


def emit_inbound(*, inbound: InboundMessage) -> int:
    """inbound.received for a stored inbound message; one with no owner (unassigned) tells nobody."""
    event = OutboundEvent.INBOUND_RECEIVED
    if not wants(owner_id=inbound.owner_id, event=event):
        return 0
    return emit(owner_id=inbound.owner_id, event=event, data=inbound_data(inbound))


def _write(deliveries: list[WebhookDelivery]) -> int:
    if deliveries:
        WebhookDelivery.objects.bulk_create(deliveries, batch_size=1000)
        kick_delivery()
    return len(deliveries)
