"""django-q2 entry points. Each takes ids, not objects, and is safe to run twice."""

from __future__ import annotations

from dataclasses import asdict

from django.db.models import Q
from django.utils import timezone

from campaigns import services
from campaigns.fanout import ACTIVE, STALL, campaign_fan_out
from campaigns.message_sync import campaign_sync_messages, campaigns_with_stranded_holds
from campaigns.models import Campaign


def fan_out(campaign_id: int) -> dict | None:
    result = campaign_fan_out(campaign_id=campaign_id)
    return asdict(result) if result else None


def sync_messages(campaign_id: int) -> int:
    """Queued by pause, resume and cancel: hold, release or cancel the campaign's QUEUED messages."""
    return campaign_sync_messages(campaign_id=campaign_id)


def import_finished(import_job_id: int) -> list[int]:
    """Queued by the imports app (ImportJob.on_finished) when a from-csv campaign's import ends."""
    return services.campaign_import_finished(import_job_id=import_job_id)


def tick() -> dict:
    """Every minute: start due scheduled campaigns, complete finished ones, catch what a lost task left behind."""
    started = services.campaigns_start_due()
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
        services.enqueue_fan_out(campaign_id=campaign_id)
    # A resume whose sync task was lost would leave its messages held for ever.
    released = {
        campaign_id: campaign_sync_messages(campaign_id=campaign_id) for campaign_id in campaigns_with_stranded_holds()
    }
    completed = services.campaigns_complete_finished()
    return {"started": started, "fan_out_requeued": stalled, "released_holds": released, "completed": completed}
