"""Import previews: what an import would make of an uploaded file, before anything is imported.

The file is read as the parser reads it (same layout, same row conversion) for its first PREVIEW_ROWS
records; its upload is kept for IMPORT_PREVIEW_SECONDS so that an import can be made from it with other
columns, without uploading it again. A preview writes no contact.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from datetime import timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from imports import services
from imports.errors import ImportFileError
from imports.layout import XLSX, ContactFile, Layout, first_line, iter_records, layout_of
from imports.models import ImportJob, ImportPreview
from imports.rows import ParsedContact, RowConverter
from imports.upload import StreamedUpload
from inboxerr.exceptions import NotFound, TooManyRequests

PREVIEW_ROWS = 20
# The preview looks for columns empty in every row among this many; the import itself looks at them all.
SCAN_ROWS = 10_000
# A CSV's rows are counted in this much of it and the count scaled to its size.
ESTIMATE_BYTES = 1 << 20
OPTION_NAMES = ("default_region", "delimiter", "phone_column", "name_column", "sheet")


@transaction.atomic
def preview_create(*, owner_id: int, upload: StreamedUpload, **options: str) -> tuple[ImportPreview, dict[str, Any]]:
    """Keep an uploaded file as a preview and read it; raises 429 past IMPORT_MAX_PREVIEWS live previews."""
    get_user_model().objects.select_for_update().filter(pk=owner_id).exists()
    live = _live().filter(owner_id=owner_id).count()
    if live >= settings.IMPORT_MAX_PREVIEWS:
        raise TooManyRequests(
            f"You have {live} previews waiting; at most {settings.IMPORT_MAX_PREVIEWS} are kept at once. "
            "Import or discard one, or wait for it to expire.",
            retry_after=60,
        )
    preview = ImportPreview.objects.create(
        owner_id=owner_id,
        **upload.as_fields(),
        options=_given(options),
    )
    return preview, preview_read(preview)


def preview_again(*, preview: ImportPreview, **options: str) -> dict[str, Any]:
    """Read a kept preview again with other options (another phone or name column, a delimiter, a sheet)."""
    preview.options = {**preview.options, **_given(options)}
    preview.save(update_fields=["options"])
    return preview_read(preview)


def preview_get(*, owner_id: int, preview_id: Any) -> ImportPreview:
    preview = _live().filter(owner_id=owner_id, pk=_as_uuid(preview_id)).first()
    if preview is None or not os.path.exists(preview.file_path):
        raise _gone(preview_id)
    return preview


def preview_read(preview: ImportPreview) -> dict[str, Any]:
    """What an import with the preview's options would make of its file: the layout, the first rows as
    contacts or row errors, and an estimate of the rows. A file that cannot be imported answers why."""
    options = preview.options
    answer: dict[str, Any] = {
        "id": str(preview.pk),
        "original_filename": preview.original_filename,
        "size_bytes": preview.size_bytes,
        "file_format": preview.file_format,
        "options": {name: options.get(name, "") for name in OPTION_NAMES},
        "expires_at": preview.created_at + timedelta(seconds=settings.IMPORT_PREVIEW_SECONDS),
    }
    try:
        with ContactFile(
            preview.file_path,
            preview.file_format,
            delimiter=options.get("delimiter", ""),
            sheet=options.get("sheet", ""),
        ) as file:
            try:
                layout = layout_of(
                    file,
                    phone_column=options.get("phone_column", ""),
                    name_column=options.get("name_column", ""),
                    scan_rows=SCAN_ROWS,
                )
            except ImportFileError as exc:
                return {**answer, "failure_reason": exc.message, "header": first_line(file), "rows": []}
            region = options.get("default_region") or settings.PHONE_DEFAULT_REGION
            rows = _first_rows(file, layout, region)
            estimate = _estimate_rows(preview, file, layout)
    except ImportFileError as exc:  # the file itself cannot be read (not text, no such sheet, ...)
        return {**answer, "failure_reason": exc.message, "header": [], "rows": []}
    return {
        **answer,
        "failure_reason": "",
        "encoding": layout.encoding,
        "delimiter": layout.delimiter,
        "sheet": layout.sheet,
        "header_row": layout.header_row,
        "header": layout.header,
        "column_mapping": layout.as_mapping(),
        "empty_columns_checked_rows": SCAN_ROWS,
        "rows": rows,
        "rows_estimate": estimate,
    }


@transaction.atomic
def import_from_preview(*, owner_id: int, preview_id: Any, **options: str) -> ImportJob:
    """Import a preview's file with its options, changed by those given; the preview is used up."""
    preview = _live().select_for_update().filter(owner_id=owner_id, pk=_as_uuid(preview_id)).first()
    if preview is None or not os.path.exists(preview.file_path):
        raise _gone(preview_id)
    chosen = {**preview.options, **_given(options)}
    upload = StreamedUpload(
        path=preview.file_path,
        name=preview.original_filename,
        size=preview.size_bytes,
        sha256=preview.sha256,
        content_type="",
        file_format=preview.file_format,
    )
    job = services.import_create(owner_id=owner_id, upload=upload, **chosen)
    preview.delete()  # the job owns the file now
    return job


def preview_discard(*, preview: ImportPreview) -> None:
    _remove(preview)


def _remove(preview: ImportPreview) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(preview.file_path)
    preview.delete()


def _oldest_live():
    return timezone.now() - timedelta(seconds=settings.IMPORT_PREVIEW_SECONDS)


def _live():
    return ImportPreview.objects.filter(created_at__gte=_oldest_live())


def _given(options: dict[str, str]) -> dict[str, str]:
    """The options a caller set (an empty one is set too: back to detecting it)."""
    return {name: value for name, value in options.items() if name in OPTION_NAMES and value is not None}


def _as_uuid(preview_id: Any) -> uuid.UUID:
    try:
        return preview_id if isinstance(preview_id, uuid.UUID) else uuid.UUID(str(preview_id))
    except ValueError:
        raise _gone(preview_id) from None


def _gone(preview_id: Any) -> NotFound:
    return NotFound(
        f"No preview {preview_id} is waiting: previews are kept {settings.IMPORT_PREVIEW_SECONDS // 60} minutes "
        "and used up by the import made from them. Upload the file again.",
        details={"preview": str(preview_id)},
    )


def _first_rows(file: ContactFile, layout: Layout, region: str) -> list[dict[str, Any]]:
    converter = RowConverter(layout, region)
    rows = []
    with file.table() as table:
        for row_number, cells in islice(iter_records(table.rows, layout), PREVIEW_ROWS):
            result = converter.convert(row_number, cells)
            if isinstance(result, ParsedContact):
                contact = {
                    "phone": result.phone,
                    "phone_column": result.phone_column,
                    "name": result.name,
                    "variables": result.variables,
                    "line_type": result.line_type,
                }
                rows.append({"row": row_number, "contact": contact, "error": None})
            else:
                rows.append({"row": row_number, "contact": None, "error": result.as_dict()})
    return rows


def _estimate_rows(preview: ImportPreview, file: ContactFile, layout: Layout) -> int | None:
    """The data rows the file holds: a workbook says, a CSV's are counted in its first MiB and scaled up
    (exact for a smaller file; blank lines and multi-line cells make it approximate)."""
    if preview.file_format == XLSX:
        return None if layout.declared_rows is None else max(layout.declared_rows - layout.header_row, 0)
    with open(preview.file_path, "rb") as f:
        head = f.read(ESTIMATE_BYTES)
    if len(head) < ESTIMATE_BYTES:
        with file.table() as table:
            return sum(1 for _ in iter_records(table.rows, layout))
    lines = head.count(b"\n") or 1
    return max(round(preview.size_bytes * lines / len(head)) - layout.header_row, 0)
