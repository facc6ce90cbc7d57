"""What the outbound webhooks do when other apps report something. Connected in MessagingConfig.ready."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from imports.models import ImportJob
from messaging.models import OutboundEvent
from messaging.outbound import subscribers
from messaging.outbound.emitting import emit

log = logging.getLogger(__name__)

IMPORT_FIELDS = ("id", "owner_id", "original_filename", "status", "total_rows", "imported_rows", "invalid_rows",
                 "duplicate_rows", "failure_reason", "finished_at")  # fmt: skip


def import_finished(sender: Any, *, job_id: int, **kwargs: Any) -> None:
    """import.finished to the owner's endpoints: the job's id, status and counts. Sent once the import's
    end is committed, so the deliveries get a transaction of their own; a failure here is logged, never
    passed on to the import or to the other receivers."""
    event = OutboundEvent.IMPORT_FINISHED
    if not subscribers.endpoints_for(event):
        return
    try:
        with transaction.atomic():
            job = ImportJob.objects.filter(pk=job_id).values(*IMPORT_FIELDS).first()
            if job is not None:
                owner_id, filename = job.pop("owner_id"), job.pop("original_filename")
                emit(owner_id=owner_id, event=event, data={**job, "filename": filename})
    except Exception:
        log.exception("import.finished webhooks for import %s were not written", job_id)
