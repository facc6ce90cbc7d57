"""Import a contact file (.csv or .xlsx) from this machine in the foreground, through the same pipeline as an
upload."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from imports import services
from imports.line_types import LineType
from imports.models import ImportJob
from imports.serializers import ImportOptionsSerializer
from imports.upload import stage_local_file
from inboxerr.exceptions import InboxerrException


class Command(BaseCommand):
    help = "Import contacts from a CSV file or an Excel workbook (.xlsx) for a user, showing progress and a summary."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--owner", required=True, help="Username the contacts belong to.")
        parser.add_argument(
            "--region", dest="default_region", default="", help="ISO 3166 alpha-2 region for national numbers."
        )
        parser.add_argument("--phone-column", default="")
        parser.add_argument("--name-column", default="")
        parser.add_argument("--delimiter", default="", help="One of , ; | or tab; sniffed if absent.")
        parser.add_argument("--sheet", default="", help="For an .xlsx workbook: the sheet's name or number.")

    def handle(self, *args, path, owner, **options):
        if not os.path.isfile(path):
            raise CommandError(f"No such file: {path}")
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"No user {owner!r}; create one with: manage.py create_api_user {owner}")
        names = list(ImportOptionsSerializer().fields.keys())
        reading = ImportOptionsSerializer(data={name: options[name] for name in names})
        if not reading.is_valid():
            raise CommandError("; ".join(f"{field}: {' '.join(errors)}" for field, errors in reading.errors.items()))

        upload = stage_local_file(path)
        try:
            job = services.import_create(owner_id=user.pk, upload=upload, enqueue=False, **reading.validated_data)
        except InboxerrException as exc:
            os.unlink(upload.path)
            raise CommandError(exc.message) from exc

        with tqdm(total=upload.size, unit="B", unit_scale=True, desc=f"import {job.pk}", file=self.stderr) as bar:

            def on_batch(progress: services.Progress) -> None:
                bar.update(progress.bytes_read - bar.n)
                bar.set_postfix(rows=f"{progress.total:,}", imported=f"{progress.imported:,}")

            ran = services.import_run(job_id=job.pk, on_batch=on_batch)
            bar.update(bar.total - bar.n)
        self._summarise(ran or job)

    def _summarise(self, job: ImportJob) -> None:
        self.stdout.write(f"Import {job.pk}: {job.status}")
        self.stdout.write(
            f"  rows {job.total_rows:,}: imported {job.imported_rows:,}, invalid {job.invalid_rows:,}, "
            f"duplicates {job.duplicate_rows:,}"
        )
        if job.line_types:
            by_type = [f"{label} {job.line_types[value]:,}" for value, label in LineType.choices
                       if job.line_types.get(value)]  # fmt: skip
            self.stdout.write(f"  line types: {', '.join(by_type)}")
        read = (
            f"sheet {job.sheet!r}"
            if job.file_format == ImportJob.Format.XLSX
            else (f"encoding {job.encoding or '?'}, delimiter {job.delimiter!r}")
        )
        self.stdout.write(f"  {job.file_format}, {read}, header on row {job.header_row or '?'}, sha256 {job.sha256}")
        if job.failure_reason:
            self.stdout.write(f"  failed: {job.failure_reason}")
        for error in job.errors[:10]:
            self.stdout.write(f"  row {error['row']}, {error['column']}: {error['message']}")
        if job.invalid_rows > 10:
            self.stdout.write(f"  ... {job.invalid_rows - 10:,} more row errors (the first 1,000 are kept on the job)")
        if job.status != ImportJob.Status.SUCCESS:
            raise CommandError(f"Import {job.pk} {job.status.lower()}.")
