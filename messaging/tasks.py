"""django-q2 entry points. Each takes ids (or nothing), and is safe to run twice or at once."""

from __future__ import annotations

from dataclasses import asdict

from messaging import dispatcher
from messaging.services import kick_dispatcher


def dispatch() -> dict:
    """Send due messages for up to SMS_DISPATCH_SECONDS; if more are due then, queue the next run."""
    report = dispatcher.dispatch()
    if report.stopped == "time":
        kick_dispatcher()
    return {key: value for key, value in asdict(report).items() if key != "durations"}


def dispatch_tick() -> dict:
    """Every minute: the safety net for scheduled messages, retries come due, expired leases, cancelled campaigns."""
    released = dispatcher.release_expired_leases()
    cancelled = dispatcher.cancel_messages_of_cancelled_campaigns()
    return {"released_leases": released, "cancelled": cancelled, **dispatch()}
