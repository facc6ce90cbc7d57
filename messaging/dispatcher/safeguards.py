"""The safeguards a claimed message passes before it is sent, checked again at claim because things change
while it waits: the number opted out, the owner's allowed countries, the recipient's quiet hours, a burst held
for review, the owner's quota.

Each either lets a message through, cancels it with a reason (opted out, a country no longer allowed, a
rejected burst, quiet hours that never open for its number), or puts it back in the queue with a reason
(Message.waiting) until it may go: the window's next opening, staff's decision, the quota's reset. Nothing
waits in a worker.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import UTC, datetime
from uuid import UUID

from django.db.models import Q
from django.utils import timezone

from messaging import bursts, quotas
from messaging.destinations import COUNTRY_NOT_ALLOWED, country_of, destinations_from
from messaging.dispatcher.claims import Claimed, release
from messaging.dispatcher.outcomes import finish
from messaging.models import EventKind, Message, OptOut, SendingLimits, Waiting, sending_limits_of
from messaging.send_windows import NEVER, WindowClock

Status = Message.Status
# Held for review: out of the claim's reach until staff decide (bursts), which sets it due again.
UNTIL_DECIDED = datetime(9999, 1, 1, tzinfo=UTC)


def screened(claimed: list[Claimed], worker: str) -> list[Claimed]:
    """What of a fresh claim may be sent now; the rest is cancelled or put back, each with its reason."""
    # The owners' limits, read once for where their messages may go and how many parts they may send.
    limits = sending_limits_of(c.owner_id for c in claimed)
    claimed = _drop_opted_out(claimed, worker, limits)
    claimed = _inside_quiet_hours(claimed, worker)
    claimed = _not_a_burst(claimed, worker)
    return _within_quota(claimed, worker, limits)


def _drop_opted_out(claimed: list[Claimed], worker: str, limits: dict[int, SendingLimits]) -> list[Claimed]:
    """Cancel claimed messages whose number opted out since they were queued, or that went to a country its
    owner may no longer send to; return the rest."""
    rows = OptOut.objects.filter(
        Q(owner_id__in={c.owner_id for c in claimed}) | Q(owner__isnull=True), phone__in={c.phone for c in claimed}
    ).values_list("owner_id", "phone")
    opted_out = set(rows)
    everyone = {phone for owner_id, phone in opted_out if owner_id is None}  # texted STOP to the gateway
    dropped = set()
    for claim in claimed:
        if (claim.owner_id, claim.phone) in opted_out or claim.phone in everyone:
            finish(claim, Status.CANCELLED, worker, error="opted_out", kind=EventKind.OPTED_OUT)
            dropped.add(claim.id)
    # Countries only: the kind of number (premium rate) was checked when it was queued and stays what it was.
    rules = {owner_id: destinations_from(limits.get(owner_id)) for owner_id in {c.owner_id for c in claimed}}
    for claim in claimed:
        rule = rules[claim.owner_id]
        if claim.id not in dropped and rule.countries is not None and country_of(claim.phone) not in rule.countries:
            finish(claim, Status.CANCELLED, worker, error=COUNTRY_NOT_ALLOWED, kind=EventKind.CANCELLED)
            dropped.add(claim.id)
    return [c for c in claimed if c.id not in dropped]


def _inside_quiet_hours(claimed: list[Claimed], worker: str) -> list[Claimed]:
    """Messages whose window is closed now go back until it opens (a big campaign can reach a message after
    its window closed, or a retry's backoff can end outside it)."""
    now = timezone.now()
    clocks: dict[str, WindowClock] = {}
    waiting: defaultdict[datetime, list[Claimed]] = defaultdict(list)
    ready = []
    for claim in claimed:
        if not claim.send_window:
            ready.append(claim)
            continue
        if claim.send_window not in clocks:
            clocks[claim.send_window] = WindowClock(claim.send_window, now)
        opening = clocks[claim.send_window].opening_for(claim.phone)
        if opening is None:
            finish(claim, Status.CANCELLED, worker, error=NEVER, kind=EventKind.CANCELLED)
        elif opening > now:
            waiting[opening].append(claim)
        else:
            ready.append(claim)
    for opening, claims in waiting.items():
        release(claims, worker, until=opening, waiting=Waiting.QUIET_HOURS)
    return ready


def _not_a_burst(claimed: list[Claimed], worker: str) -> list[Claimed]:
    """First attempts only: a retry was counted in the owner's mix when it was first sent."""
    first = [c for c in claimed if c.first_attempt]
    if not first:
        return claimed
    decisions = dict(
        zip(
            (c.id for c in first),
            bursts.screen([(c.owner_id, c.phone, c.parts) for c in first]),
            strict=True,
        )
    )
    held = [c for c in first if decisions[c.id] == bursts.HOLD]
    for claim in first:
        if decisions[claim.id] == bursts.REJECT:
            finish(claim, Status.CANCELLED, worker, error=bursts.BURST_REJECTED, kind=EventKind.CANCELLED)
    release(held, worker, until=UNTIL_DECIDED, waiting=Waiting.REVIEW)
    return [c for c in claimed if decisions.get(c.id, bursts.SEND) == bursts.SEND]


def _within_quota(claimed: list[Claimed], worker: str, limits: dict[int, SendingLimits]) -> list[Claimed]:
    """Count campaigns' messages against their owners' quotas the first time they are claimed (single sends
    and batches were counted when queued); what does not fit goes back until the reset, and campaigns are told
    (they pause until then)."""
    wanted: defaultdict[int, list[Claimed]] = defaultdict(list)
    for claim in claimed:
        if claim.campaign_id is not None and claim.first_attempt:
            wanted[claim.owner_id].append(claim)
    if not wanted:
        return claimed
    owner_quotas = {owner_id: quotas.quota_of(limits.get(owner_id)) for owner_id in wanted}
    spent = quotas.take({owner_id: [c.parts for c in claims] for owner_id, claims in wanted.items()}, owner_quotas)
    charged: dict[UUID, Claimed] = {}
    over: set[UUID] = set()
    for owner_id, claims in wanted.items():
        result = spent[owner_id]
        for claim in claims[: result.fitted]:
            charged[claim.id] = dataclasses.replace(claim, charged=True)
        if result.full is not None:
            rest = claims[result.fitted :]
            over.update(c.id for c in rest)
            release(rest, worker, until=result.full.resets_at, waiting=Waiting.QUOTA)
            quotas.quota_reached.send(
                sender=Message, owner_id=owner_id, resets_at=result.full.resets_at, reason=result.explain()
            )
    return [charged.get(c.id, c) for c in claimed if c.id not in over]
