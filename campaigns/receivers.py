"""What campaigns do when other apps report something. Connected in CampaignsConfig.ready; each only queues."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from campaigns import audit, services, tasks


def import_finished(sender: Any, *, job_id: int, **kwargs: Any) -> None:
    """An import ended (any outcome): a from-csv campaign waiting for it starts or fails, in a worker."""
    if services.campaigns_waiting_for(import_job_id=job_id).exists():
        tasks.enqueue_import_finished(import_job_id=job_id)


def quota_reached(sender: Any, *, owner_id: int, resets_at: datetime, reason: str, **kwargs: Any) -> None:
    """A dispatcher found no room in a user's quota for their campaign's messages: their running campaigns pause
    until the reset, when the clock resumes them."""
    audit.campaigns_pause_for_quota(owner_id=owner_id, reason=reason, resume_at=resets_at)
