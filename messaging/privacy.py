"""What we hold about a phone number, handed over (export) or erased on request, and how long texts are kept.

Erasing a number deletes its contacts and leaves its messages as anonymised counts: their text, variables and
the number itself are replaced (the number by a keyed hash, so a campaign's counts and its one-message-per-
number rule still hold), and the gateway payloads kept with them are emptied. An opt-out is kept: it holds
only the number, and it is what stops the number being messaged again.

Texts are kept MESSAGE_RETENTION_DAYS: a daily task blanks the text and variables of final messages older than
that, in short batches walking the time-ordered primary key from where the last run stopped.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from imports.models import Contact
from messaging.models import InboundMessage, Message, MessageEvent, OptOut, RetentionProgress, WebhookDelivery

RETENTION = "messages"
RETENTION_BATCH = 5000
# A daily run stops after this long and goes on from there the next day.
RETENTION_SECONDS = 120


def erased_phone(phone: str) -> str:
    """What stands for an erased number: the same for every row of one number, and not readable back."""
    digest = hmac.new(settings.SECRET_KEY.encode(), phone.encode(), hashlib.sha256).hexdigest()
    return f"erased:{digest[:12]}"


def _mine(queryset: QuerySet, owner_id: int | None, field: str = "owner_id") -> QuerySet:
    return queryset if owner_id is None else queryset.filter(**{field: owner_id})


@transaction.atomic
def erase_number(*, phone: str, owner_id: int | None) -> dict[str, int]:
    """Erase what one user (None: every user) holds about `phone`; answers how much of each was erased."""
    token = erased_phone(phone)
    contacts, _ = _mine(Contact.objects.filter(phone=phone), owner_id).delete()
    messages = _mine(Message.objects.filter(phone=phone), owner_id)
    events = MessageEvent.objects.filter(message__in=messages).update(payload={}, detail="")
    blanked = messages.update(phone=token, content="", variables={}, error="", updated_at=timezone.now())
    inbound = _mine(InboundMessage.objects.filter(phone=phone), owner_id).update(
        phone=token, text="", payload={}, gateway_message_id="", keyword_result=""
    )
    deliveries = _mine(WebhookDelivery.objects.filter(payload__data__phone=phone), owner_id, "endpoint__owner_id")
    return {
        "contacts_deleted": contacts,
        "messages_anonymised": blanked,
        "events_emptied": events,
        "inbound_messages_anonymised": inbound,
        "webhook_deliveries_emptied": deliveries.update(payload={}),
        "opt_outs_kept": _mine(OptOut.objects.filter(phone=phone), owner_id).count(),
    }


def export_number(*, phone: str, owner_id: int | None) -> dict[str, Any]:
    """Everything one user (None: every user) holds about `phone`, as plain data."""
    contacts = _mine(Contact.objects.filter(phone=phone), owner_id).select_related("import_job")
    messages = _mine(Message.objects.filter(phone=phone), owner_id).order_by("id")
    inbound = _mine(InboundMessage.objects.filter(phone=phone), owner_id).order_by("id")
    return {
        "phone": phone,
        "contacts": [
            {"import_id": c.import_job_id, "file": c.import_job.original_filename, "row": c.row_number,
             "name": c.name, "variables": c.variables, "line_type": c.line_type, "owner_id": c.owner_id}
            for c in contacts
        ],
        "messages": [
            {"id": str(m.id), "campaign_id": m.campaign_id, "content": m.content, "variables": m.variables,
             "status": m.status, "created_at": m.created_at, "sent_at": m.sent_at, "delivered_at": m.delivered_at,
             "owner_id": m.owner_id}
            for m in messages
        ],
        "inbound_messages": [
            {"id": m.id, "text": m.text, "received_at": m.received_at, "campaign_id": m.campaign_id,
             "keyword": m.keyword, "owner_id": m.owner_id}
            for m in inbound
        ],
        "opt_outs": list(
            _mine(OptOut.objects.filter(phone=phone), owner_id).values("owner_id", "source", "keyword", "created_at")
        ),
    }  # fmt: skip


def uuid7_floor(when: datetime) -> uuid.UUID:
    """The smallest version-7 UUID of `when`'s millisecond: message ids below it were made before it."""
    milliseconds = int(when.timestamp() * 1000)
    return uuid.UUID(int=(milliseconds << 80) | (0x7 << 76) | (0b10 << 62))


def blank_old_messages(*, now: datetime | None = None, seconds: float = RETENTION_SECONDS) -> int:
    """Blank the text and variables of final messages older than MESSAGE_RETENTION_DAYS, RETENTION_BATCH at a time,
    each batch its own short transaction; returns how many were blanked. A message not final by then (stuck
    QUEUED for months) is passed over."""
    cutoff = uuid7_floor((now or timezone.now()) - timedelta(days=settings.MESSAGE_RETENTION_DAYS))
    progress, _ = RetentionProgress.objects.get_or_create(name=RETENTION)
    blanked, started = 0, time.monotonic()
    while time.monotonic() - started < seconds:
        after = Message.objects.filter(id__lt=cutoff)
        if progress.last_id is not None:
            after = after.filter(id__gt=progress.last_id)
        ids = list(after.order_by("id").values_list("id", flat=True)[:RETENTION_BATCH])
        if not ids:
            break
        with transaction.atomic():
            blanked += (
                Message.objects.filter(id__in=ids, status__in=Message.FINAL)
                .exclude(content="", variables={})
                .update(content="", variables={})
            )
            progress.last_id = ids[-1]
            progress.save(update_fields=["last_id"])
    return blanked
