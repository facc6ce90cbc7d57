"""django-q2 entry points. Each takes ids, not objects, and is safe to run twice."""

from __future__ import annotations

from dataclasses import asdict

from imports import services


def run_import(job_id: int) -> str | None:
    job = services.import_run(job_id=job_id)
    return job.status if job else None


def requeue_stalled_imports() -> list[int]:
    return services.import_requeue_stalled()


def cleanup_imports() -> dict:
    return asdict(services.import_cleanup())
