"""The campaigns' minute clock: start what is due, complete what is done, and catch what a lost task left."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from campaigns import audit, services, tasks
from campaigns.fanout import ACTIVE, STALL
from campaigns.message_sync import (
    campaign_sync_messages,
    campaigns_with_stranded_holds,
    cancel_messages_of_ended_campaigns,
)
from campaigns.models import Campaign


def campaigns_tick() -> dict[str, Any]:
    started = services.campaigns_start_due()
    resumed = audit.campaigns_resume_due()
    for import_job_id in services.campaigns_waiting_for_finished_imports():
        services.campaign_import_finished(import_job_id=import_job_id)
    # A fan-out whose worker died (or whose task a broker lost) is queued again; it resumes idempotently.
    stalled_before = timezone.now() - STALL
    stalled = list(
        Campaign.objects.filter(status__in=ACTIVE, fanout_completed_at__isnull=True)
        .filter(
            Q(fanout_heartbeat_at__lt=stalled_before)
            | Q(fanout_heartbeat_at__isnull=True, started_at__lt=stalled_before)
        )
        .values_list("pk", flat=True)
    )
    for campaign_id in stalled:
        tasks.enqueue_fan_out(campaign_id=campaign_id)
    # A resume whose sync task was lost would leave its messages held for ever.
    released = {
        campaign_id: campaign_sync_messages(campaign_id=campaign_id) for campaign_id in campaigns_with_stranded_holds()
    }
    # Messages back from a retry or an expired lease after their campaign ended: claims skip
    # them, so without this they would wait for ever.
    cancelled = cancel_messages_of_ended_campaigns()
    completed = services.campaigns_complete_finished()
    return {
        "started": started,
        "resumed": resumed,
        "fan_out_requeued": stalled,
        "released_holds": released,
        "cancelled_messages": cancelled,
        "completed": completed,
    }
