"""django-q2 entry points of messaging, and how they are queued.

Each takes ids (or nothing) and is safe to run twice or at once. Tasks are
queued by their function, never by a dotted path.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db import transaction
from django_q.tasks import async_task

from inboxerr import debounce
from messaging import dispatcher, privacy
from messaging.dispatcher.slots import dispatcher_slot, slots_enforced

# At most one dispatch task is queued per this many seconds, however many messages are queued.
KICK_DEBOUNCE_SECONDS = 1


def dispatch() -> dict[str, Any]:
    """Send due messages for up to SMS_DISPATCH_SECONDS in one of the SMS_DISPATCHERS slots (or, with all
    of them taken, do nothing); recruit one more dispatcher on a full batch; queue the next run if more
    are due when time is up."""
    with dispatcher_slot() as slot:
        if slot is None:
            return {"stopped": "all dispatcher slots taken"}
        recruit = _recruit_another_dispatcher if slots_enforced() else None
        # Lingering as long as wake-ups are debounced: a message queued just after the wake-up that started this
        # run, whose own wake-up was debounced, is sent by this run, not by the next minute's.
        report = dispatcher.dispatch(on_full_batch=recruit, linger=KICK_DEBOUNCE_SECONDS)
    if report.stopped in (dispatcher.StopReason.TIME, dispatcher.StopReason.SHUTDOWN):
        kick_dispatcher()  # more may be due: another run (on another node, or after a restart) goes on
    return {"slot": slot, **{key: value for key, value in asdict(report).items() if key != "durations"}}


def dispatch_tick() -> dict[str, Any]:
    """Every minute: the safety net for scheduled messages, retries come due and expired leases."""
    return {"released_leases": dispatcher.release_expired_leases(), **dispatch()}


def kick_dispatcher() -> None:
    """Queue a dispatch once the current transaction commits; debounced, so a flood of sends costs one task."""
    transaction.on_commit(_enqueue_dispatch)


def _enqueue_dispatch() -> None:
    if debounce.first_in("messaging:dispatch-kick", KICK_DEBOUNCE_SECONDS):
        async_task(dispatch, group="dispatch")


def _recruit_another_dispatcher() -> None:
    # Not debounced like kick_dispatcher: the debounce is what would keep a backlog to one dispatcher.
    # The chain ends at the first task that finds every slot taken.
    async_task(dispatch, group="dispatch")


def retention() -> dict[str, Any]:
    """Daily: blank the texts of final messages past MESSAGE_RETENTION_DAYS (messaging.privacy)."""
    return {"blanked": privacy.blank_old_messages()}
