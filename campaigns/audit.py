"""A person's lifecycle action (start, pause, resume, cancel), done and written in the audit log at once."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest

from campaigns import services
from campaigns.lifecycle import Action
from campaigns.models import Campaign
from inboxerr import audit

# The lifecycle's user actions (campaigns.lifecycle.USER_ACTIONS), each with its service.
SERVICES: dict[Action, Callable[..., Campaign]] = {
    Action.START: services.campaign_start,
    Action.PAUSE: services.campaign_pause,
    Action.RESUME: services.campaign_resume,
    Action.CANCEL: services.campaign_cancel,
}


def campaign_act(*, campaign: Campaign, action: Action, request: HttpRequest, via: str) -> Campaign:
    """Run the service for `action` and record who asked, from where, and the status it moved from and to;
    a refusal (409) raises and records nothing."""
    with transaction.atomic():
        # Locked, so the status read is the one the action moves from.
        before = Campaign.objects.select_for_update().filter(pk=campaign.pk).values_list("status", flat=True).first()
        done = SERVICES[action](campaign=campaign)
        audit.record(
            action=f"campaign.{action}",
            target=f"campaign {done.pk} {done.name}",
            request=request,
            via=via,
            detail={"status": [before, done.status]},
        )
    return done
