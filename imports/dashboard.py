"""Imports' part of the admin dashboard: the files being read now."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from imports.admin_views import progress_line
from imports.models import ImportJob

SHOWN = 10


def in_progress(request: HttpRequest) -> dict[str, Any]:
    jobs = (
        ImportJob.objects.filter(status=ImportJob.Status.PROCESSING)
        .select_related("owner")
        .defer("errors", "column_mapping")  # a job's kept row errors can run to thousands
        .order_by("created_at")[:SHOWN]
    )
    return {"imports": [(job, progress_line(job)) for job in jobs]}
