from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from imports.line_types import LineType
from imports.phones import line_type_of


class ImportStatus(models.TextChoices):
    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel workbook"


class ImportJob(models.Model):
    """One uploaded contact file (CSV or .xlsx) and its progress into Contact rows."""

    Status = ImportStatus
    Format = FileFormat

    FINISHED = (Status.SUCCESS, Status.FAILED, Status.CANCELLED)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING)
    original_filename = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    # Where the upload waits for the parser; emptied once parsing ends.
    file_path = models.CharField(max_length=500, blank=True, default="")
    encoding = models.CharField(max_length=20, blank=True, default="")
    # csv or xlsx, from the upload's name and first bytes.
    file_format = models.CharField(max_length=4, choices=FileFormat.choices, default=FileFormat.CSV)
    # The worksheet of a workbook: as asked for at upload (empty: the first), then the one read.
    sheet = models.CharField(max_length=100, blank=True, default="")
    # As asked for at upload (empty: sniff / find by name); the parser records what it used.
    delimiter = models.CharField(max_length=1, blank=True, default="")
    phone_column = models.CharField(max_length=200, blank=True, default="")
    name_column = models.CharField(max_length=200, blank=True, default="")
    default_region = models.CharField(max_length=2, blank=True, default="")
    # What the parser read: {"phone": [headers, in the order tried], "name": [headers],
    # "variables": {header: key}, "ignored": [headers of columns empty in every row]}.
    column_mapping = models.JSONField(default=dict, blank=True)
    # The header's line as a spreadsheet shows it: 1, or lower below a title line. Null until read.
    header_row = models.PositiveIntegerField(null=True, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    imported_rows = models.PositiveIntegerField(default=0)
    invalid_rows = models.PositiveIntegerField(default=0)
    duplicate_rows = models.PositiveIntegerField(default=0)
    # The contacts imported by line type, {"mobile": n, "fixed_line": m, ...}; they add up to imported_rows.
    # Empty for an import made before line types were recorded.
    line_types = models.JSONField(default=dict, blank=True)
    # The first row errors as {row, column, message}; invalid_rows counts them all.
    errors = models.JSONField(default=list, blank=True)
    # The first rows dropped as repeats of a phone already in the file, as {row, phone, first_row};
    # duplicate_rows counts them all.
    duplicates = models.JSONField(default=list, blank=True)
    # Why the whole job failed, when it did.
    failure_reason = models.TextField(blank=True, default="")
    # Parser runs that claimed this job; more than one means a worker died mid-way.
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Touched after every batch; a PROCESSING job whose heartbeat stops was orphaned by its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["owner", "status"], name="importjob_owner_status_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=ImportStatus.values), name="importjob_status_valid"),
            models.CheckConstraint(
                condition=models.Q(imported_rows__lte=models.F("total_rows")), name="importjob_imported_lte_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class ImportPreview(models.Model):
    """An uploaded file kept a short while (IMPORT_PREVIEW_SECONDS) so its owner can see what an import would make
    of it, change the columns, and import it without uploading it again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_previews")
    original_filename = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    file_path = models.CharField(max_length=500)
    file_format = models.CharField(max_length=4, choices=FileFormat.choices, default=FileFormat.CSV)
    # The options it was last read with; an import made from it starts from these.
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "created_at"], name="importpreview_owner_idx")]

    def __str__(self) -> str:
        return f"preview of {self.original_filename}"


class Contact(models.Model):
    """One valid, de-duplicated row of an import."""

    # The import's owner, copied for scoping. It has no index and no database-level
    # foreign key: contacts are always reached through their import, whose own foreign
    # key guards integrity, and a per-row FK check roughly doubled the cost of
    # inserting a million contacts. Deleting a user still cascades (Django does it).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="contacts",
        db_index=False,
        db_constraint=False,
    )
    import_job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="contacts", db_index=False)
    phone = models.CharField(max_length=20, help_text="E.164")
    name = models.CharField(max_length=255, blank=True, default="")
    # The import's other columns, by normalised key.
    variables = models.JSONField(default=dict, blank=True)
    # The column its number was taken from: a file may have several (mobile, home, work).
    phone_column = models.CharField(
        "from column",
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text="The column its number came from.",
    )
    # The line in the file as a spreadsheet shows it, for tracing a contact to its source.
    row_number = models.PositiveIntegerField(default=0)
    # Read from the number by the import. The column's own default (db_default) makes adding it to a big table
    # instant and leaves the contacts imported before it "unknown", which campaigns send to as they did.
    line_type = models.CharField(
        max_length=16, choices=LineType.choices, default=LineType.UNKNOWN, db_default=LineType.UNKNOWN
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            # The contacts of one import in order (its list in the admin, a campaign's preview and fan-out):
            # without it PostgreSQL walks the primary key past every other import's contacts to reach a new one's.
            models.Index(fields=["import_job", "id"], name="contact_import_id_idx"),
        ]
        constraints = [
            # Also the index for "the contacts of this import".
            models.UniqueConstraint(fields=["import_job", "phone"], name="contact_phone_unique_per_import"),
            models.CheckConstraint(condition=models.Q(phone__startswith="+"), name="contact_phone_e164"),
        ]

    def __str__(self) -> str:
        return self.phone

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A contact saved one at a time (the admin's form, a shell) takes the line type of its phone as it is now;
        # imports classify each row as they parse it and write in bulk, never through here.
        self.line_type = line_type_of(self.phone)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "phone" in update_fields:
            kwargs["update_fields"] = {*update_fields, "line_type"}
        super().save(*args, **kwargs)


def contact_values(variables: dict[str, str], *, phone: str, name: str) -> dict[str, str]:
    """What a contact's message is rendered with: the import's own columns, and its phone and name over them."""
    return {**variables, "phone": phone, "name": name}
