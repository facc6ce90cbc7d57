"""Bring a campaign's QUEUED messages in step with its status, in a worker rather than the request.

A paused campaign's messages are marked `held`, which takes them out of the
dispatcher's claim index; resuming clears the mark; cancelling turns them
CANCELLED (so does failing). Changing 200,000 rows takes seconds, so the request only moves the
campaign and queues this; until it has run, the condition campaigns add to
every claim (`stopped_campaign_messages`) keeps a paused or cancelled campaign quiet.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from campaigns.models import Campaign
from messaging.models import Message
from messaging.tasks import kick_dispatcher

# First key of the advisory lock that runs one sync per campaign at a time (the second is the campaign id).
LOCK_NAMESPACE = 0x5C_4D_53  # "\\MS"
# Campaigns that ended before their messages went: what is still QUEUED is cancelled, with this reason.
ENDED = {Campaign.Status.CANCELLED: "The campaign was cancelled.", Campaign.Status.FAILED: "The campaign failed."}
# Campaign statuses whose messages must not be sent, whether or not they are held or cancelled yet.
STOPPED = (Campaign.Status.PAUSED, *ENDED)


def stopped_campaign_messages() -> Q:
    """Messages of a paused, cancelled or failed campaign: the dispatcher never claims them
    (see CampaignsConfig.ready)."""
    return Q(campaign__status__in=STOPPED)


def campaign_sync_messages(*, campaign_id: int) -> int:
    """Cancel the QUEUED messages of a cancelled campaign, hold those of a paused one, release those
    of any other; how many changed.

    Safe to run twice or at once: syncs of one campaign take turns, and each reads the campaign's
    status only once it holds the turn, so the one after the last status change always wins.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":  # SQLite runs one writer at a time anyway
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, campaign_id])
        status = Campaign.objects.filter(pk=campaign_id).values_list("status", flat=True).first()
        if status is None:
            return 0
        if status in ENDED:
            return cancel_messages_of_ended_campaigns(campaign_id=campaign_id)
        queued = Message.objects.filter(campaign_id=campaign_id, status=Message.Status.QUEUED)
        hold = status == Campaign.Status.PAUSED
        moved = queued.filter(held=not hold).update(held=hold)
    if moved and not hold:
        kick_dispatcher()
    return moved


def cancel_messages_of_ended_campaigns(*, campaign_id: int | None = None) -> int:
    """QUEUED messages of a CANCELLED or FAILED campaign (or of that one campaign) -> CANCELLED.

    Run for a campaign just ended, and every minute for messages back from a retry or an expired
    lease after it ended.
    """
    cancelled = 0
    for status, reason in ENDED.items():
        queued = Message.objects.filter(status=Message.Status.QUEUED, campaign__status=status)
        if campaign_id is not None:
            queued = queued.filter(campaign_id=campaign_id)
        cancelled += queued.update(status=Message.Status.CANCELLED, error=reason, updated_at=timezone.now())
    return cancelled


def campaigns_with_stranded_holds() -> list[int]:
    """Running campaigns that still have held messages: a sync task was lost after a resume."""
    held = Message.objects.filter(campaign=OuterRef("pk"), status=Message.Status.QUEUED, held=True)
    return list(
        Campaign.objects.filter(status=Campaign.Status.RUNNING).filter(Exists(held)).values_list("pk", flat=True)
    )
