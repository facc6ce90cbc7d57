"""django-q2 entry points. Each takes ids (or nothing), and is safe to run twice or at once."""

from __future__ import annotations

from dataclasses import asdict

from django_q.tasks import async_task

from messaging import dispatcher
from messaging.dispatch_slots import dispatcher_slot, slots_enforced
from messaging.services import DISPATCH_TASK, kick_dispatcher


def dispatch() -> dict:
    """Send due messages for up to SMS_DISPATCH_SECONDS in one of the SMS_DISPATCHERS slots (or, with all
    of them taken, do nothing); recruit one more dispatcher on a full batch; queue the next run if more
    are due when time is up."""
    with dispatcher_slot() as slot:
        if slot is None:
            return {"stopped": "all dispatcher slots taken"}
        recruit = _recruit_another_dispatcher if slots_enforced() else None
        report = dispatcher.dispatch(on_full_batch=recruit)
    if report.stopped == "time":
        kick_dispatcher()
    return {"slot": slot, **{key: value for key, value in asdict(report).items() if key != "durations"}}


def _recruit_another_dispatcher() -> None:
    # Not debounced like kick_dispatcher: the debounce is what would keep a backlog to one dispatcher.
    # The chain ends at the first task that finds every slot taken.
    async_task(DISPATCH_TASK, group="dispatch")


def dispatch_tick() -> dict:
    """Every minute: the safety net for scheduled messages, retries come due, expired leases, cancelled campaigns."""
    released = dispatcher.release_expired_leases()
    cancelled = dispatcher.cancel_messages_of_cancelled_campaigns()
    return {"released_leases": released, "cancelled": cancelled, **dispatch()}
