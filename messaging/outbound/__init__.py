"""Webhooks to our users' programs: what happened, told to the URLs they registered, signed, by a worker.

Other code reports an event with one call, inside the transaction that did what it reports:

    outbound.emit(owner_id=..., event=OutboundEvent.CAMPAIGN_COMPLETED, data={...})
    outbound.emit_messages(event=OutboundEvent.MESSAGE_SENT, message_ids=[...])  # many messages, one query
    outbound.emit_message(event=OutboundEvent.MESSAGE_DELIVERED, message=message)
    outbound.emit_inbound(inbound=inbound_message)

Each writes one WebhookDelivery per active endpoint of the owner subscribed to the event (none, and no
query, when nobody is: `subscribers`), and queues the delivery task once the transaction commits. The
parts: `events` (names, bodies), `subscribers` (who wants what, cached), `emitting`, `targets` (which URLs
may be called), `signing`, `http` (one exchange with an endpoint), `delivery` (the worker's run), `services`
(endpoints), `tasks`, `api`, `serializers`, `admin`.
"""

from __future__ import annotations

from messaging.outbound.emitting import emit, emit_inbound, emit_many, emit_message, emit_messages, wants

__all__ = ["emit", "emit_inbound", "emit_many", "emit_message", "emit_messages", "wants"]
