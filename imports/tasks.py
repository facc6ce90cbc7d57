"""django-q2 entry points of imports, and how they are queued.

Each takes ids, not objects, and is safe to run twice. The services queue these by their
function, so each imports the services when it runs (the two modules would import each other).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django_q.tasks import async_task


def run_import(job_id: int) -> str | None:
    """Run a waiting import, the fairest to run now (imports.services.import_run_fairly), not always job_id's."""
    from imports.services import import_run_fairly

    job = import_run_fairly(job_id=job_id)
    return job.status if job else None


def requeue_stalled_imports() -> list[int]:
    from imports.services import import_requeue_stalled

    return import_requeue_stalled()


def cleanup_imports() -> dict[str, Any]:
    from imports.services import import_cleanup

    return asdict(import_cleanup())


def enqueue_import(*, job_id: int) -> None:
    async_task(run_import, job_id, group="imports")
