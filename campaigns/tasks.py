"""django-q2 entry points of campaigns, and how they are queued.

Each takes ids, not objects, and is safe to run twice. The services queue these
by their function (never a dotted path), so each entry point imports the code it
runs when it runs: importing it at the top would make the two modules import each
other.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django_q.tasks import async_task


def fan_out(campaign_id: int) -> dict[str, int] | None:
    from campaigns.fanout import campaign_fan_out

    result = campaign_fan_out(campaign_id=campaign_id)
    return asdict(result) if result else None


def sync_messages(campaign_id: int) -> int:
    """Queued by pause, resume and cancel: hold, release or cancel the campaign's QUEUED messages."""
    from campaigns.message_sync import campaign_sync_messages

    return campaign_sync_messages(campaign_id=campaign_id)


def import_finished(import_job_id: int) -> list[int]:
    """Queued when the import of a from-csv campaign finishes (campaigns.receivers)."""
    from campaigns.services import campaign_import_finished

    return campaign_import_finished(import_job_id=import_job_id)


def tick() -> dict[str, Any]:
    """Every minute: start due scheduled campaigns, complete finished ones, catch what a lost task left behind."""
    from campaigns.clock import campaigns_tick

    return campaigns_tick()


# Queued at once: a caller inside a transaction queues them from transaction.on_commit.


def enqueue_fan_out(*, campaign_id: int) -> None:
    async_task(fan_out, campaign_id, group="campaigns")


def enqueue_message_sync(*, campaign_id: int) -> None:
    async_task(sync_messages, campaign_id, group="campaigns")


def enqueue_import_finished(*, import_job_id: int) -> None:
    async_task(import_finished, import_job_id, group="campaigns")
