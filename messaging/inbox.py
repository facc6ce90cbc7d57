"""Messages people send us: stored once, matched to who they answer, keywords acted on, answered by staff.

An inbound message belongs to the user who last messaged its phone (the most recent, when several have), and
is linked to what it most likely answers: that user's latest message to the phone within REPLY_WINDOW_DAYS,
its campaign and its contact. One nobody here has messaged is kept unassigned, for staff. A keyword
(messaging.keywords) acts at once: STOP opts the number out of every user sending through the gateway, START
undoes it, HELP gets the owner's help text, at most once an hour per phone and never in answer to what looks
like another machine's automatic reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from imports.phones import phone_or_as_typed
from inboxerr.exceptions import Unprocessable
from messaging import outbound, services
from messaging.backends.base import WebhookEvent
from messaging.keywords import keyword_of
from messaging.models import EventSource, InboundMessage, InboxSettings, Keyword, Message

# At most one automatic answer (a HELP text) per phone in this long.
AUTO_REPLY_GAP = timedelta(hours=1)
# What another machine's automatic reply says of itself: answering it could start two robots talking.
AUTOMATED = re.compile(
    r"auto[\s-]?(?:reply|response|matic reply|mated)|out of (?:the )?office|do not reply|no[\s-]?reply", re.I
)


@dataclass(frozen=True)
class Match:
    owner_id: int | None
    in_reply_to: Message | None


def receive(*, source: EventSource, event: WebhookEvent) -> InboundMessage | None:
    """Store a received message once (None when the gateway sent this event before) and act on its keyword.

    Runs inside the webhook's transaction: the message, its opt-out and its answer commit together.
    """
    phone = _phone(event.phone)
    match = match_sender(phone)
    replied = match.in_reply_to
    inbound = InboundMessage(
        owner_id=match.owner_id,
        source=source,
        external_id=event.event_id[:100],
        kind=event.inbound_kind,
        phone=phone[:40],
        text=event.text,
        received_at=event.occurred_at or timezone.now(),
        gateway_number=event.gateway_number[:40],
        device_id=event.device_id[:100],
        sim_number=event.sim_number,
        gateway_message_id=event.gateway_message_id[:100],
        in_reply_to=replied,
        campaign_id=replied.campaign_id if replied else None,
        contact_id=replied.contact_id if replied else None,
        payload=event.payload,
    )
    try:
        with transaction.atomic():
            inbound.save()
    except IntegrityError:
        return None
    act_on_keyword(inbound)
    outbound.emit_inbound(inbound=inbound)
    return inbound


def fill_in_body(*, source: EventSource, gateway_message_id: str, body: str) -> InboundMessage | None:
    """An MMS's text arrives after it (android's mms:downloaded): fill it in and act on its keyword."""
    inbound = (
        InboundMessage.objects.select_for_update()
        .filter(source=source, gateway_message_id=gateway_message_id, text="")
        .first()
        if gateway_message_id and body
        else None
    )
    if inbound is None:
        return None
    inbound.text = body
    inbound.save(update_fields=["text"])
    act_on_keyword(inbound)
    return inbound


def match_sender(phone: str) -> Match:
    """Who last messaged the phone, and their latest message to it within REPLY_WINDOW_DAYS."""
    latest = (
        Message.objects.filter(phone=phone)
        .exclude(sent_at=None)
        .order_by("-sent_at")
        .only("id", "owner_id", "campaign_id", "contact_id", "sent_at")
        .first()
    )
    if latest is None:
        return Match(owner_id=None, in_reply_to=None)
    assert latest.sent_at is not None
    recent = latest.sent_at >= timezone.now() - timedelta(days=settings.REPLY_WINDOW_DAYS)
    return Match(owner_id=latest.owner_id, in_reply_to=latest if recent else None)


def act_on_keyword(inbound: InboundMessage) -> None:
    keyword = keyword_of(inbound.text)
    if keyword is None or not inbound.phone.startswith("+"):
        return
    if keyword == Keyword.STOP:
        cancelled = services.opt_out_everyone(
            phone=inbound.phone, source=EventSource(inbound.source), keyword=inbound.text.strip()[:32]
        )
        result = "Opted out of every sender on this gateway" + (
            f"; {cancelled} queued message{'s' if cancelled != 1 else ''} cancelled." if cancelled else "."
        )
    elif keyword == Keyword.START:
        removed = services.opt_in_everyone(phone=inbound.phone)
        result = "Opted back in." if removed else "Was not opted out; nothing to undo."
    else:
        result = _answer_help(inbound)
    inbound.keyword, inbound.keyword_result = keyword, result[:200]
    inbound.save(update_fields=["keyword", "keyword_result", "auto_reply"])


def _answer_help(inbound: InboundMessage) -> str:
    if inbound.owner_id is None:
        return "Not answered: nobody here has messaged this number."
    help_text = InboxSettings.objects.filter(owner_id=inbound.owner_id).values_list("help_text", flat=True).first()
    if not help_text:
        return "Not answered: no help text is set."
    if AUTOMATED.search(inbound.text):
        return "Not answered: it reads as another system's automatic reply."
    since = timezone.now() - AUTO_REPLY_GAP
    if InboundMessage.objects.filter(phone=inbound.phone, auto_reply__isnull=False, received_at__gte=since).exists():
        return "Not answered: this number got an automatic answer less than an hour ago."
    # Counted in the owner's quota but never refused by it: a HELP must always be answered.
    queued = services.messages_send(
        owner_id=inbound.owner_id,
        recipients=[services.Recipient(inbound.phone)],
        content=help_text,
        enforce_quota=False,
    )
    if not queued.message_ids:
        return "Not answered: the number has opted out."
    inbound.auto_reply_id = queued.message_ids[0]
    return "Answered with the help text."


def reply(*, inbound: InboundMessage, owner_id: int, content: str) -> services.Queued:
    """Answer an inbound message through the normal path: a QUEUED message the dispatcher sends."""
    if not inbound.phone.startswith("+"):
        raise Unprocessable(f"{inbound.phone} is not a phone number that can be texted back.", code="not_a_phone")
    with transaction.atomic():
        queued = services.messages_send(
            owner_id=owner_id, recipients=[services.Recipient(inbound.phone)], content=content, single=True
        )
        mark(InboundMessage.objects.filter(pk=inbound.pk), read=True)
    return queued


def mark(inbound: QuerySet[InboundMessage], *, read: bool | None = None, archived: bool | None = None) -> int:
    """Mark messages read or unread, archived or back in the inbox; returns how many matched."""
    now = timezone.now()
    changes: dict[str, Any] = {}
    if read is not None:
        changes["read_at"] = now if read else None
    if archived is not None:
        changes["archived_at"] = now if archived else None
    return inbound.update(**changes) if changes else inbound.count()


def inbox_of(owner_id: int) -> QuerySet[InboundMessage]:
    return InboundMessage.objects.filter(owner_id=owner_id)


def replies_count(campaign_id: int) -> tuple[int, int]:
    """(replies, unread replies) to a campaign."""
    replies = InboundMessage.objects.filter(campaign_id=campaign_id)
    return replies.count(), replies.filter(read_at__isnull=True, archived_at__isnull=True).count()


@dataclass(frozen=True)
class ThreadItem:
    direction: str  # "in" or "out"
    at: datetime
    item: Message | InboundMessage


def conversation(*, phone: str, owner_id: int | None, limit: int) -> list[ThreadItem]:
    """The latest `limit` messages each way between a user and a phone, oldest first.

    owner_id None: staff reading an unassigned number, which has only inbound messages.
    """
    inbound = InboundMessage.objects.filter(phone=phone, owner_id=owner_id).order_by("-received_at")[:limit]
    outbound: Iterable[Message] = (
        Message.objects.filter(phone=phone, owner_id=owner_id).order_by("-created_at")[:limit]
        if owner_id is not None
        else []
    )
    items = [ThreadItem("in", m.received_at, m) for m in inbound]
    items += [ThreadItem("out", m.sent_at or m.created_at, m) for m in outbound]
    return sorted(items, key=lambda item: item.at)[-limit:]


def phone_in_any_format(raw: str) -> str:
    """A phone as staff or a program typed it, as inbound messages store it."""
    return phone_or_as_typed(raw, settings.PHONE_DEFAULT_REGION)


def _phone(raw: str) -> str:
    """The sender as stored: E.164 when its number reads as one; else as the gateway gave it."""
    return phone_in_any_format(raw) or "unknown"
