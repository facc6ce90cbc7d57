"""A lifecycle action (start, pause, resume, cancel), a person's or the system's, done and written in the audit
log at once."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from campaigns import services
from campaigns.lifecycle import Action, in_sources_of
from campaigns.models import Campaign
from inboxerr import audit
from inboxerr.exceptions import Conflict

# The lifecycle's user actions (campaigns.lifecycle.USER_ACTIONS), each with its service.
SERVICES: dict[Action, Callable[..., Campaign]] = {
    Action.START: services.campaign_start,
    Action.PAUSE: services.campaign_pause,
    Action.RESUME: services.campaign_resume,
    Action.CANCEL: services.campaign_cancel,
}


def campaign_act(
    *,
    campaign: Campaign,
    action: Action,
    request: HttpRequest | None = None,
    via: str = "",
    why: dict[str, Any] | None = None,
    **options: Any,
) -> Campaign:
    """Run the service for `action` (with `options`) and record who asked (without a request: the system), from
    where, the status it moved from and to, and `why`; a refusal (409) raises and records nothing."""
    with transaction.atomic():
        # Locked, so the status read is the one the action moves from.
        before = Campaign.objects.select_for_update().filter(pk=campaign.pk).values_list("status", flat=True).first()
        done = SERVICES[action](campaign=campaign, **options)
        audit.record(
            action=f"campaign.{action}",
            target=f"campaign {done.pk} {done.name}",
            request=request,
            via=via,
            detail={"status": [before, done.status], **(why or {})},
        )
    return done


def campaigns_pause_for_quota(*, owner_id: int, reason: str, resume_at: datetime) -> list[int]:
    """The owner's RUNNING campaigns -> PAUSED with `reason` until `resume_at` (their quota ran out)."""
    why = {"reason": reason, "resume_at": resume_at.isoformat()}
    return _act_on_each(
        in_sources_of(Action.PAUSE).filter(owner_id=owner_id), Action.PAUSE, why, reason=reason, resume_at=resume_at
    )


def campaigns_resume_due(*, now: datetime | None = None) -> list[int]:
    """Campaigns the system paused until a moment now past -> RUNNING (a person's pause has no such moment)."""
    due = in_sources_of(Action.RESUME).filter(resume_at__lte=now or timezone.now())
    return _act_on_each(due, Action.RESUME, {"reason": "its quota reset"})


def _act_on_each(campaigns: Any, action: Action, why: dict[str, Any], **options: Any) -> list[int]:
    """The system's `action` on each of `campaigns`, each in its own transaction; the ids it moved (one paused,
    resumed or ended meanwhile is left as it is)."""
    moved = []
    for campaign in campaigns:
        with contextlib.suppress(Conflict):
            campaign_act(campaign=campaign, action=action, why=why, **options)
            moved.append(campaign.pk)
    return moved
