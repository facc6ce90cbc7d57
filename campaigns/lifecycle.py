"""The campaign lifecycle as one table: each action, the statuses it may start from, where it leads.

The services move a campaign only through `transition()` (one conditional
UPDATE, so of two concurrent requests only one wins), and many at once (the
clock's completions) by an UPDATE of `in_sources_of()`; the API's 409, its
`actions` field and the admin's actions are derived from the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus
from inboxerr.exceptions import Conflict

S = CampaignStatus


class Action(StrEnum):
    START = "start"
    RUN = "run"  # a scheduled campaign whose time has come, or a started one with no time set
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    FAIL = "fail"
    COMPLETE = "complete"
    EDIT = "edit"
    DELETE = "delete"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[CampaignStatus]
    # Where it may lead, the usual one first; none: the status stays (an edit) or the row goes (a delete).
    targets: tuple[CampaignStatus, ...]


def _t(sources: set[CampaignStatus], *targets: CampaignStatus) -> Transition:
    return Transition(frozenset(sources), targets)


TRANSITIONS: dict[Action, Transition] = {
    # SCHEDULED when scheduled_at is still ahead.
    Action.START: _t({S.DRAFT}, S.RUNNING, S.SCHEDULED),
    Action.RUN: _t({S.SCHEDULED}, S.RUNNING),
    Action.PAUSE: _t({S.RUNNING}, S.PAUSED),
    Action.RESUME: _t({S.PAUSED}, S.RUNNING),
    Action.CANCEL: _t({S.DRAFT, S.SCHEDULED, S.RUNNING, S.PAUSED}, S.CANCELLED),
    # A campaign that cannot start (its import failed, its variables are missing), or whose fan-out failed for good.
    Action.FAIL: _t({S.DRAFT, S.SCHEDULED, S.RUNNING, S.PAUSED}, S.FAILED),
    # Nothing left to send (campaigns.services.campaigns_complete_finished).
    Action.COMPLETE: _t({S.RUNNING}, S.COMPLETED),
    Action.EDIT: _t({S.DRAFT}),
    Action.DELETE: _t({S.DRAFT}),
}
# What a person can ask for; the others are the system's own moves.
USER_ACTIONS = (Action.START, Action.PAUSE, Action.RESUME, Action.CANCEL)


def can(status: str, action: Action) -> bool:
    return status in TRANSITIONS[action].sources


def available_actions(status: str) -> list[Action]:
    """The actions a person may take on a campaign in `status`, in lifecycle order."""
    return [action for action in USER_ACTIONS if can(status, action)]


def require(campaign: Campaign, action: Action) -> None:
    """Raise the 409 for `action` unless the campaign's (locked or fresh) status allows it."""
    if not can(campaign.status, action):
        raise illegal(campaign.status, action)


def illegal(status: str, action: Action) -> Conflict:
    sources = sorted(TRANSITIONS[action].sources, key=list(S).index)
    allowed = " or ".join([", ".join(sources[:-1]), sources[-1]] if len(sources) > 1 else sources)
    return Conflict(
        f"A {status} campaign cannot {action}. Only a {allowed} campaign can.",
        code="illegal_transition",
        details={"status": status},
    )


def transition(campaign: Campaign, action: Action, *, to: CampaignStatus | None = None, **fields: Any) -> Campaign:
    """Move the campaign by one conditional UPDATE; 409 when its status no longer allows `action`.

    Call it inside the transaction that does the action's other writes.
    """
    targets = TRANSITIONS[action].targets
    target = to or targets[0]
    assert target in targets, f"{action} cannot lead to {target}"
    now = timezone.now()
    moved = in_sources_of(action).filter(pk=campaign.pk).update(status=target, updated_at=now, **fields)
    campaign.refresh_from_db()
    if not moved:
        raise illegal(campaign.status, action)
    return campaign


def in_sources_of(action: Action) -> QuerySet[Campaign]:
    """Every campaign `action` may move now."""
    return Campaign.objects.filter(status__in=TRANSITIONS[action].sources)
