"""Delete orphaned upload files and expired import jobs (also run daily by the task queue)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from imports.services import import_cleanup


class Command(BaseCommand):
    help = (
        "Delete expired import previews, upload files no PROCESSING job or preview owns, and finished jobs older "
        "than IMPORT_RETENTION_DAYS "
        "with their contacts unless a campaign still uses them."
    )

    def handle(self, *args, **options):
        report = import_cleanup()
        self.stdout.write(
            f"Expired {report.previews_expired} preview(s). "
            f"Removed {report.files_removed} orphaned file(s); deleted {report.jobs_deleted} job(s) older than "
            f"{settings.IMPORT_RETENTION_DAYS} days with {report.contacts_deleted:,} contact(s)."
        )
