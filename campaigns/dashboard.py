"""Campaigns' part of the admin dashboard: what is sending or waiting to, and the latest failures."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from campaigns.models import Campaign
from messaging.errors import explain
from messaging.models import Message

SHOWN = 10
LATEST_FAILURES = 8
ACTIVE = [Campaign.Status.RUNNING, Campaign.Status.PAUSED, Campaign.Status.SCHEDULED]
UNSENT = [Message.Status.QUEUED, Message.Status.SENDING]


def active(request: HttpRequest) -> dict[str, Any]:
    campaigns = (
        Campaign.objects.filter(status__in=ACTIVE)
        .select_related("owner")
        .only("id", "name", "status", "recipients_count", "fanout_completed_at", "scheduled_at", "owner__username")
        .order_by("status", "scheduled_at", "started_at")[:SHOWN]
    )
    rows = []
    for campaign in campaigns:
        percent = None
        if campaign.status != Campaign.Status.SCHEDULED and campaign.fanout_completed_at and campaign.recipients_count:
            # On message_campaign_status_idx: only the rows still to send are read, not the whole campaign.
            unsent = Message.objects.filter(campaign=campaign, status__in=UNSENT).count()
            percent = round(100 * (campaign.recipients_count - unsent) / campaign.recipients_count, 1)
        rows.append((campaign, percent))
    return {"campaigns": rows}


def failures(request: HttpRequest) -> dict[str, Any]:
    latest = (
        Message.objects.filter(status=Message.Status.FAILED)
        .order_by("-failed_at")  # message_failed_idx: the newest few, whatever the table's size
        .select_related("campaign")
        .only("id", "phone", "failed_at", "error", "campaign__id", "campaign__name")[:LATEST_FAILURES]
    )
    return {"failures": [(message, explain(message.error)) for message in latest]}
