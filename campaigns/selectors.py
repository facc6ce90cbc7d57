"""Reads about campaigns: statistics and previews. Nothing here writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import campaign_compile
from imports.line_types import TEXTABLE
from imports.models import Contact, contact_values
from messaging.inbox import replies_count
from messaging.models import Message
from messaging.opt_out_line import already_messaged, opt_out_line_of, with_opt_out_line
from templates.renderer import MissingVariables
from templates.segments import analyse

# Short, so the rate follows what is happening now: over a minute it read a tenth of the real rate in a
# campaign's first seconds, and kept counting sends for a minute after a pause.
RATE_WINDOW = timedelta(seconds=10)
MAX_PREVIEW = 50
# Messages past these statuses count as done for progress.
DONE = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.FAILED, Message.Status.CANCELLED)


def campaign_stats(*, campaign: Campaign) -> dict[str, Any]:
    """Counts by status and parts, progress, the send rate over the last RATE_WINDOW and an estimated finish."""
    by_status = {status: 0 for status in Message.Status.values}
    total_parts = 0
    # COUNT(*), not COUNT(id): with only status and parts_count read, message_campaign_status_idx
    # answers alone (an index-only scan) instead of visiting every row of a big campaign.
    per_status = Message.objects.filter(campaign=campaign).values("status")
    for row in per_status.annotate(n=Count("*"), parts=Sum("parts_count")):
        by_status[row["status"]] = row["n"]
        total_parts += row["parts"] or 0
    if campaign.status in (Campaign.Status.CANCELLED, Campaign.Status.FAILED):
        # No dispatcher claims them any more; a worker is turning them CANCELLED (message_sync).
        by_status[Message.Status.CANCELLED] += by_status[Message.Status.QUEUED]
        by_status[Message.Status.QUEUED] = 0
    total = sum(by_status.values())
    done = sum(by_status[s] for s in DONE)
    now = timezone.now()
    rate = send_rate(campaign, now) if campaign.status == Campaign.Status.RUNNING else 0.0
    remaining = by_status[Message.Status.QUEUED] + by_status[Message.Status.SENDING]
    eta = now + timedelta(seconds=remaining / rate) if rate and remaining else None
    replies, unread_replies = replies_count(campaign.pk)
    return {
        "status": campaign.status,
        "messages": total,
        "by_status": by_status,
        "total_parts": total_parts,
        "progress_percent": round(100 * done / total, 1) if total else 0.0,
        "send_rate_per_second": round(rate, 2),
        "send_rate_window_seconds": int(RATE_WINDOW.total_seconds()),
        "estimated_completion_at": eta,
        "recipients": campaign.recipients_count,
        "skipped_opted_out": campaign.skipped_opted_out,
        "skipped_missing_variables": campaign.skipped_missing_variables,
        "skipped_too_long": campaign.skipped_too_long,
        "skipped_not_mobile": campaign.skipped_not_mobile,
        "skipped_not_allowed": campaign.skipped_not_allowed,
        "skipped_quiet_hours": campaign.skipped_quiet_hours,
        "waiting": waiting_counts(campaign),
        "pause_reason": campaign.pause_reason,
        "resume_at": campaign.resume_at,
        "fan_out_complete": campaign.fanout_completed_at is not None,
        "replies": replies,
        "unread_replies": unread_replies,
    }


def waiting_counts(campaign: Campaign) -> dict[str, int]:
    """Its QUEUED messages a safeguard holds back, by reason (on message_waiting_idx, which holds only those)."""
    counts = {reason: 0 for reason in Message.Waiting.values}
    waiting = Message.objects.filter(campaign=campaign, status=Message.Status.QUEUED).exclude(waiting="")
    for row in waiting.values("waiting").annotate(n=Count("*")):
        counts[row["waiting"]] = row["n"]
    return counts


def send_rate(campaign: Campaign, now: datetime) -> float:
    """Messages sent per second over the last RATE_WINDOW, or since the start if that is more recent."""
    since = max(now - RATE_WINDOW, campaign.started_at or now)
    seconds = max((now - since).total_seconds(), 1.0)  # a campaign started this very second has no rate yet
    # On message_campaign_sent_idx.
    return Message.objects.filter(campaign=campaign, sent_at__gte=since).count() / seconds


def _line_type_counts(campaign: Campaign, everyone: QuerySet[Contact]) -> tuple[int, int]:
    """(contacts, those the fan-out sends to whatever the campaign's setting): the counts the import recorded
    as it wrote its contacts, or, for an import from before they were recorded, one pass over its contacts."""
    recorded = campaign.import_job.line_types if campaign.import_job else None
    if recorded:
        return sum(recorded.values()), sum(n for kind, n in recorded.items() if kind in TEXTABLE)
    counts = everyone.aggregate(everyone=Count("*"), textable=Count("id", filter=Q(line_type__in=TEXTABLE)))
    return counts["everyone"], counts["textable"]


def campaign_preview(*, campaign: Campaign, limit: int) -> dict[str, Any]:
    """The first `limit` messages as they would be sent, and an estimate of the whole campaign's parts.

    Contacts the fan-out will skip as not mobile are left out of both, and counted."""
    compiled = campaign_compile(campaign)
    everyone = Contact.objects.filter(import_job_id=campaign.import_job_id)
    sent_to = everyone if campaign.include_non_mobile else everyone.filter(line_type__in=TEXTABLE)
    contacts = sent_to.order_by("id")
    items: list[dict[str, Any]] = []
    sampled: list[int] = []  # the parts of each message that rendered
    sample = list(contacts[: max(1, min(limit, MAX_PREVIEW))])
    line = opt_out_line_of(campaign.owner_id) if campaign.add_opt_out_line else ""
    messaged = already_messaged(owner_id=campaign.owner_id, phones=(c.phone for c in sample)) if line else set()
    for contact in sample:
        try:
            text = compiled.render(contact_values(contact.variables, phone=contact.phone, name=contact.name))
        except MissingVariables as exc:
            items.append({"phone": contact.phone, "rendered": None, "missing": exc.names, "encoding": None, "parts": 0})
            continue
        if line and contact.phone not in messaged:
            text = with_opt_out_line(text, line)
        segments = analyse(text)
        sampled.append(segments.parts)
        items.append(
            {
                "phone": contact.phone,
                "rendered": text,
                "missing": [],
                "encoding": segments.encoding,
                "parts": segments.parts,
            }
        )
    recipients = skipped = 0
    if campaign.import_job_id:
        contacts_count, textable = _line_type_counts(campaign, everyone)
        skipped = 0 if campaign.include_non_mobile else contacts_count - textable
        recipients = contacts_count - skipped
    average = sum(sampled) / len(sampled) if sampled else 0
    return {
        "messages": items,
        "recipients": recipients,
        "skipped_not_mobile": skipped,
        "estimated_total_parts": round(average * recipients),
    }
