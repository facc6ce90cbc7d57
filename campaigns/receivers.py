"""What campaigns do when other apps report something. Connected in CampaignsConfig.ready; each only queues."""

from __future__ import annotations

from typing import Any

from campaigns import services, tasks


def import_finished(sender: Any, *, job_id: int, **kwargs: Any) -> None:
    """An import ended (any outcome): a from-csv campaign waiting for it starts or fails, in a worker."""
    if services.campaigns_waiting_for(import_job_id=job_id).exists():
        tasks.enqueue_import_finished(import_job_id=job_id)
