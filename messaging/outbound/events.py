"""The events an endpoint can subscribe to, and the bodies that tell of them."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from messaging.models import InboundMessage, Message, OutboundEvent

# What an endpoint may subscribe to; webhook.test goes only where it is asked for.
SUBSCRIBABLE: tuple[str, ...] = tuple(e for e in OutboundEvent.values if e != OutboundEvent.WEBHOOK_TEST)
MESSAGE_EVENTS = (OutboundEvent.MESSAGE_SENT, OutboundEvent.MESSAGE_DELIVERED, OutboundEvent.MESSAGE_FAILED)

# A message's fields in its events: what the API's Message has, but its text and variables.
MESSAGE_FIELDS = (
    "id",
    "campaign_id",
    "task_id",
    "phone",
    "status",
    "attempts",
    "parts_count",
    "error",
    "sent_at",
    "delivered_at",
    "failed_at",
)


def envelope(*, event_id: uuid.UUID, event: str, created_at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The body of every delivery, in JSON types only (datetimes as ISO 8601 strings, UUIDs as text)."""
    body = {"id": event_id, "event": event, "created_at": created_at, "data": data}
    loaded: dict[str, Any] = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
    return loaded


def body(payload: dict[str, Any]) -> bytes:
    """A stored payload as the bytes sent (and signed), its keys in the documented order: the database
    keeps JSON objects in an order of its own."""
    ordered = {key: payload[key] for key in ("id", "event", "created_at", "data") if key in payload}
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode()


def message_data(message: Message | dict[str, Any]) -> dict[str, Any]:
    """A message's event data, from the model or from a values() row of MESSAGE_FIELDS."""
    if isinstance(message, Message):
        return {name: getattr(message, name) for name in MESSAGE_FIELDS}
    return {name: message[name] for name in MESSAGE_FIELDS}


def inbound_data(inbound: InboundMessage) -> dict[str, Any]:
    return {
        "id": inbound.pk,
        "phone": inbound.phone,
        "text": inbound.text,
        "kind": inbound.kind,
        "received_at": inbound.received_at,
        "gateway_number": inbound.gateway_number,
        "in_reply_to": inbound.in_reply_to_id,
        "campaign_id": inbound.campaign_id,
        "contact_id": inbound.contact_id,
        "keyword": inbound.keyword,
    }
