"""Import jobs: created from an upload, parsed into contacts in batches, cancelled, cleaned up."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import IO, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone

from imports import tasks
from imports.ahead import run_ahead
from imports.errors import ImportFileError
from imports.layout import ContactFile, Layout, Record, iter_records, layout_of
from imports.models import ImportJob, ImportPreview
from imports.rows import ParsedContact, RowConverter, RowError
from imports.signals import import_finished
from imports.upload import UPLOAD_PREFIX, StreamedUpload, upload_dir
from imports.writers import CopyRows, copy_contacts, delete_contacts, insert_contacts, insert_contacts_finding_repeats
from inboxerr import shutdown
from inboxerr.exceptions import Conflict, TooManyRequests
from inboxerr.metrics import IMPORT_ROWS

log = logging.getLogger(__name__)

BATCH_SIZE = 5000
MAX_KEPT_ERRORS = 1000
MAX_KEPT_DUPLICATES = 1000
# A job whose parser died this many times is failed rather than tried again.
MAX_ATTEMPTS = 3
PROCESSING = ImportJob.Status.PROCESSING


@dataclass
class Progress:
    """What the parser has seen so far; written to the job after every batch."""

    total: int = 0
    imported: int = 0
    invalid: int = 0
    duplicate: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    bytes_read: int = 0
    # The contacts imported, by line type (LineType values).
    line_types: Counter[str] = field(default_factory=Counter)


# --- Creation, cancel ---------------------------------------------------------


def import_check_capacity(*, owner_id: int) -> None:
    """At most IMPORT_MAX_PROCESSING imports per user run at once."""
    processing = ImportJob.objects.filter(owner_id=owner_id, status=PROCESSING).count()
    if processing >= settings.IMPORT_MAX_PROCESSING:
        raise TooManyRequests(
            f"You have {processing} imports processing; at most {settings.IMPORT_MAX_PROCESSING} may run at once. "
            "Try again when one has finished.",
            retry_after=30,
        )


@transaction.atomic
def import_create(
    *,
    owner_id: int,
    upload: StreamedUpload,
    default_region: str = "",
    delimiter: str = "",
    phone_column: str = "",
    name_column: str = "",
    sheet: str = "",
    enqueue: bool = True,
) -> ImportJob:
    """Record an uploaded file as a PROCESSING job and queue its parser once committed.

    enqueue=False leaves the parsing to the caller (the import_csv command runs it in the foreground).
    """
    # Lock the user's row so two simultaneous uploads cannot both pass the capacity check.
    get_user_model().objects.select_for_update().filter(pk=owner_id).exists()
    import_check_capacity(owner_id=owner_id)
    job = ImportJob.objects.create(
        owner_id=owner_id,
        **upload.as_fields(),
        sheet=sheet,
        default_region=default_region or settings.PHONE_DEFAULT_REGION,
        delimiter=delimiter,
        phone_column=phone_column,
        name_column=name_column,
    )
    if enqueue:
        transaction.on_commit(lambda: tasks.enqueue_import(job_id=job.pk))
    return job


def import_cancel(*, job: ImportJob) -> ImportJob:
    """PROCESSING -> CANCELLED; the parser notices at its next batch and removes the contacts."""
    cancelled = ImportJob.objects.filter(pk=job.pk, status=PROCESSING).update(
        status=ImportJob.Status.CANCELLED, finished_at=timezone.now()
    )
    job.refresh_from_db()
    if not cancelled:
        raise Conflict(
            f"The import is {job.status}; only a PROCESSING import can be cancelled.", details={"status": job.status}
        )
    _announce_finished(job)
    return job


def _announce_finished(job: ImportJob) -> None:
    """Tell the other apps (signals.import_finished) once the job's final status is committed."""
    if job.is_finished:
        job_id, status = job.pk, job.status
        transaction.on_commit(lambda: import_finished.send(sender=ImportJob, job_id=job_id, status=status))


# --- The parser run -----------------------------------------------------------


class _Cancelled(Exception):
    pass


class _Stopping(Exception):
    """The worker is stopping (inboxerr.shutdown): leave the job as a dead worker would."""


def import_run(*, job_id: int, on_batch: Callable[[Progress], None] | None = None) -> ImportJob | None:
    """Parse a job's file into contacts. Safe to run twice: only the run that claims the job works on it."""
    job = _claim(job_id)
    if job is None:
        _remove_file_of_finished(job_id)
        return None
    stopped = False
    try:
        _parse_into_contacts(job, on_batch)
    except _Stopping:
        # Left as a dead worker leaves it, file and all, but with its heartbeat stale at once: the
        # watchdog's next run starts it again from the first row, on whichever worker is up. A stop
        # asked for is no crash, so it does not use up one of the job's attempts.
        stale = timezone.now() - timedelta(seconds=settings.IMPORT_STALL_SECONDS + 1)
        stopped = bool(
            ImportJob.objects.filter(pk=job.pk, status=PROCESSING).update(
                heartbeat_at=stale, attempts=F("attempts") - 1
            )
        )
        if stopped:
            log.warning("import %s: stopped at a batch's end because the worker is stopping", job.pk)
        else:  # cancelled meanwhile: ends as a cancel does
            _drop_contacts(job)
    except ImportFileError as exc:
        _finish_failed(job, exc.message)
    except _Cancelled:
        _drop_contacts(job)
    except Exception:
        log.exception("import %s: the parser failed", job.pk)
        _finish_failed(job, "An internal error stopped the import. It has been logged; please try again.")
        raise
    finally:
        if not stopped:
            _remove_file(job)
            job.refresh_from_db()
            _announce_finished(job)
    return None if stopped else job


def import_run_fairly(*, job_id: int) -> ImportJob | None:
    """A queued import task: run the waiting import that is fairest to run now, which may not be `job_id`.

    Tasks run in the order they were queued, so five imports one user uploaded would otherwise run before a
    two-row file another user uploaded a second later. Every upload queues one task, and each task runs one
    waiting job: the one whose owner has the fewest imports running, then the owner whose last import started
    longest ago, then the oldest. No owner runs more than IMPORT_RUNNING_PER_USER imports at once, so one user
    never takes every worker: a task that finds only such owners' jobs waiting goes back in the queue.
    """
    for candidate in _fairest_waiting():
        job = import_run(job_id=candidate)
        if job is not None:
            return job
    if _waiting().exists():  # all of them belong to owners at their limit, or were taken meanwhile
        time.sleep(IMPORT_RETRY_SECONDS)
        tasks.enqueue_import(job_id=job_id)
    return None


# A task that found no job it may run waits this long before queuing itself again: no busy loop.
IMPORT_RETRY_SECONDS = 1.0


def _waiting() -> QuerySet[ImportJob]:
    """Jobs no parser is working on: not started, or whose parser stopped reporting."""
    stalled = timezone.now() - timedelta(seconds=settings.IMPORT_STALL_SECONDS)
    return ImportJob.objects.filter(status=PROCESSING).filter(Q(started_at__isnull=True) | Q(heartbeat_at__lt=stalled))


def _fairest_waiting() -> list[int]:
    """The waiting jobs that may start now, fairest first (see import_run_fairly)."""
    waiting = list(_waiting().values_list("pk", "owner_id", "created_at").order_by("created_at")[:100])
    owners = {owner_id for _, owner_id, _ in waiting}
    stalled = timezone.now() - timedelta(seconds=settings.IMPORT_STALL_SECONDS)
    running = Counter(
        ImportJob.objects.filter(owner_id__in=owners, status=PROCESSING, heartbeat_at__gte=stalled)
        .exclude(started_at__isnull=True)
        .values_list("owner_id", flat=True)
    )
    last_start = dict(
        ImportJob.objects.filter(owner_id__in=owners, started_at__isnull=False)
        .values("owner_id")
        .annotate(last=Max("started_at"))
        .values_list("owner_id", "last")
    )
    never = datetime.min.replace(tzinfo=UTC)
    eligible = [job for job in waiting if running[job[1]] < settings.IMPORT_RUNNING_PER_USER]
    eligible.sort(key=lambda job: (running[job[1]], last_start.get(job[1], never), job[2]))
    return [pk for pk, _, _ in eligible]


def _claim(job_id: int) -> ImportJob | None:
    """Take the job if it waits for a parser, or if its parser stopped reporting (a worker died)."""
    now = timezone.now()
    stalled = now - timedelta(seconds=settings.IMPORT_STALL_SECONDS)
    claimed = (
        ImportJob.objects.filter(pk=job_id, status=PROCESSING)
        .filter(Q(started_at__isnull=True) | Q(heartbeat_at__lt=stalled))
        .update(started_at=now, heartbeat_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    job = ImportJob.objects.get(pk=job_id)
    if job.attempts > 1:
        # An earlier run died mid-way: start again from the first row.
        log.warning("import %s: restarting after %d interrupted run(s)", job.pk, job.attempts - 1)
        delete_contacts(job_id=job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            total_rows=0, imported_rows=0, invalid_rows=0, duplicate_rows=0, errors=[], duplicates=[], line_types={}
        )
        if job.attempts > MAX_ATTEMPTS:
            _finish_failed(job, f"The import was interrupted {job.attempts - 1} times and has been given up.")
            _remove_file(job)
            job.refresh_from_db()
            _announce_finished(job)
            return None
    return job


@dataclass
class ParsedBatch:
    """One batch of records, parsed: what goes to the database and what was wrong."""

    rows: int
    contacts: list[ParsedContact]  # for the database when it is not PostgreSQL
    errors: list[RowError]
    bytes_read: int
    lines: bytes = b""  # on PostgreSQL: the contacts as COPY lines (CopyRows)
    staged: int = 0  # how many contacts `lines` holds


def _parse_into_contacts(job: ImportJob, on_batch: Callable[[Progress], None] | None) -> None:
    if not job.file_path or not os.path.exists(job.file_path):
        raise ImportFileError("The uploaded file is no longer on the server; upload it again.")
    with ContactFile(job.file_path, job.file_format, delimiter=job.delimiter, sheet=job.sheet) as file:
        layout = layout_of(file, phone_column=job.phone_column, name_column=job.name_column)
        ImportJob.objects.filter(pk=job.pk).update(
            encoding=layout.encoding,
            delimiter=layout.delimiter,
            sheet=layout.sheet,
            header_row=layout.header_row,
            column_mapping=layout.as_mapping(),
        )
        if layout.declared_rows is not None and layout.declared_rows - layout.header_row > settings.IMPORT_MAX_ROWS:
            # A workbook says how many rows it has: too many is refused before any is read. The count below
            # still guards a workbook that says nothing, or too few.
            raise _too_many_rows()
        progress = Progress()
        for batch in _parse_batches(file, layout, job):
            _import_batch(job, batch, progress)
            if on_batch:
                on_batch(progress)
            if shutdown.requested():
                raise _Stopping

    if progress.total == 0:
        raise ImportFileError("The file has a header but no data rows.")
    if progress.imported == 0:
        raise ImportFileError(f"None of the {progress.total:,} rows has a valid phone number; see the row errors.")
    finished = ImportJob.objects.filter(pk=job.pk, status=PROCESSING).update(
        status=ImportJob.Status.SUCCESS, finished_at=timezone.now(), heartbeat_at=timezone.now()
    )
    if not finished:
        raise _Cancelled


def _parse_batches(file: ContactFile, layout: Layout, job: ImportJob) -> Iterator[ParsedBatch]:
    """The file's records in parsed batches, in file order; stops with an error past IMPORT_MAX_ROWS.

    Reading the file and turning records into contacts (phone numbers, COPY lines) run in a process of
    their own (IMPORT_PARSE_PROCESSES > 0), a few batches ahead, while this one writes the batches before
    to the database: on PostgreSQL this process only hands each batch's lines to COPY.
    """
    converter = RowConverter(layout, job.default_region)
    lines = CopyRows(owner_id=job.owner_id, job_id=job.pk, layout=layout) if connection.vendor == "postgresql" else None

    def produce() -> Iterator[ParsedBatch]:
        with file.table() as table:
            for records, bytes_read in _limited(_batched(iter_records(table.rows, layout), BATCH_SIZE), table.raw):
                yield _convert_batch(converter, lines, records, bytes_read)

    if settings.IMPORT_PARSE_PROCESSES > 0:
        yield from run_ahead(produce)
    else:
        yield from produce()


def _limited(batches: Iterator[list[Record]], raw: IO[bytes]) -> Iterator[tuple[list[Record], int]]:
    rows = 0
    for records in batches:
        rows += len(records)
        if rows > settings.IMPORT_MAX_ROWS:
            raise _too_many_rows()
        yield records, raw.tell()


def _too_many_rows() -> ImportFileError:
    return ImportFileError(
        f"The file has more than {settings.IMPORT_MAX_ROWS:,} data rows; split it and upload the parts."
    )


def _convert_batch(
    converter: RowConverter, lines: CopyRows | None, records: list[Record], bytes_read: int
) -> ParsedBatch:
    batch = ParsedBatch(rows=len(records), contacts=[], errors=[], bytes_read=bytes_read)
    if lines is None:
        for row_number, cells in records:
            result = converter.convert(row_number, cells)
            (batch.errors if isinstance(result, RowError) else batch.contacts).append(result)  # type: ignore[arg-type]
        return batch
    # On PostgreSQL each row goes straight to its COPY line: a million rows make no contact objects.
    read_row, line_of, out = converter.read_row, lines.line_of, []
    for row_number, cells in records:
        read = read_row(row_number, cells)
        if read.__class__ is RowError:
            batch.errors.append(read)  # type: ignore[arg-type]
        else:
            out.append(line_of(row_number, *read))  # type: ignore[misc]
    batch.lines, batch.staged = "".join(out).encode(), len(out)
    return batch


def _import_batch(job: ImportJob, batch: ParsedBatch, progress: Progress) -> None:
    """Insert one batch and its counters in one transaction; a cancel since the last batch rolls it back."""
    with transaction.atomic():
        room_for_repeats = MAX_KEPT_DUPLICATES - len(progress.duplicates)
        staged = batch.staged or len(batch.contacts)
        if batch.lines:
            line_types, repeats = copy_contacts(
                job_id=job.pk, lines=batch.lines, count=batch.staged, repeats_wanted=room_for_repeats
            )
        elif room_for_repeats > 0:  # until the list is full, the insert also says which rows were repeats
            line_types, repeats = insert_contacts_finding_repeats(
                job_id=job.pk, owner_id=job.owner_id, contacts=batch.contacts
            )
        else:
            line_types, repeats = insert_contacts(job_id=job.pk, owner_id=job.owner_id, contacts=batch.contacts), []
        inserted = sum(line_types.values())
        progress.line_types.update(line_types)
        progress.total += batch.rows
        progress.imported += inserted
        progress.duplicate += staged - inserted
        progress.invalid += len(batch.errors)
        progress.bytes_read = batch.bytes_read
        counters = {
            "total_rows": progress.total,
            "imported_rows": progress.imported,
            "invalid_rows": progress.invalid,
            "duplicate_rows": progress.duplicate,
            "line_types": dict(progress.line_types),
            "heartbeat_at": timezone.now(),
        }
        room = MAX_KEPT_ERRORS - len(progress.errors)
        if batch.errors and room > 0:
            progress.errors.extend(error.as_dict() for error in batch.errors[:room])
            counters["errors"] = progress.errors
        if repeats:
            progress.duplicates.extend(repeats[:room_for_repeats])
            counters["duplicates"] = progress.duplicates
        if not ImportJob.objects.filter(pk=job.pk, status=PROCESSING).update(**counters):
            raise _Cancelled
    IMPORT_ROWS.labels("imported").inc(inserted)
    IMPORT_ROWS.labels("invalid").inc(len(batch.errors))
    IMPORT_ROWS.labels("duplicate").inc(staged - inserted)


def _batched(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def _drop_contacts(job: ImportJob) -> None:
    """A job that did not succeed keeps none of its contacts; its other counters say what the parser read."""
    delete_contacts(job_id=job.pk)
    ImportJob.objects.filter(pk=job.pk).update(imported_rows=0, line_types={})


def _finish_failed(job: ImportJob, reason: str) -> None:
    # Contacts go first, so no FAILED job is ever seen with some of its contacts.
    _drop_contacts(job)
    ImportJob.objects.filter(pk=job.pk, status=PROCESSING).update(
        status=ImportJob.Status.FAILED, failure_reason=reason, finished_at=timezone.now()
    )


def _remove_file(job: ImportJob) -> None:
    if job.file_path:
        _unlink(job.file_path)
        ImportJob.objects.filter(pk=job.pk).update(file_path="")


def _remove_file_of_finished(job_id: int) -> None:
    """A job cancelled before its parser started still has its file; nobody else will remove it."""
    job = ImportJob.objects.filter(pk=job_id).exclude(status=PROCESSING).exclude(file_path="").first()
    if job:
        _remove_file(job)


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


# --- Watchdog and clean-up ------------------------------------------------------


def import_requeue_stalled() -> list[int]:
    """Queue the parser again for jobs whose worker died, or whose task was lost; it claims them anew."""
    stalled = timezone.now() - timedelta(seconds=settings.IMPORT_STALL_SECONDS)
    job_ids = list(
        ImportJob.objects.filter(status=PROCESSING)
        .filter(Q(heartbeat_at__lt=stalled) | Q(started_at__isnull=True, created_at__lt=stalled))
        .values_list("pk", flat=True)
    )
    for job_id in job_ids:
        tasks.enqueue_import(job_id=job_id)
    return job_ids


@dataclass
class CleanupReport:
    files_removed: int = 0
    previews_expired: int = 0
    jobs_deleted: int = 0
    contacts_deleted: int = 0


def import_cleanup(*, now: datetime | None = None) -> CleanupReport:
    """Remove expired previews, orphaned upload files, and finished jobs past retention that no campaign uses."""
    now = now or timezone.now()
    report = CleanupReport()

    expired_previews = ImportPreview.objects.filter(
        created_at__lt=now - timedelta(seconds=settings.IMPORT_PREVIEW_SECONDS)
    )
    for preview in expired_previews.iterator():
        _unlink(preview.file_path)
        preview.delete()
        report.previews_expired += 1

    in_use = set(ImportJob.objects.filter(status=PROCESSING).exclude(file_path="").values_list("file_path", flat=True))
    in_use |= set(ImportPreview.objects.values_list("file_path", flat=True))
    # A file younger than the stall limit may still be streaming in from an upload.
    old_enough = time.time() - settings.IMPORT_STALL_SECONDS
    with os.scandir(upload_dir()) as entries:
        for entry in entries:
            if entry.name.startswith(UPLOAD_PREFIX) and entry.path not in in_use and entry.stat().st_mtime < old_enough:
                _unlink(entry.path)
                report.files_removed += 1

    expired = ImportJob.objects.filter(
        created_at__lt=now - timedelta(days=settings.IMPORT_RETENTION_DAYS),
        status__in=ImportJob.FINISHED,
        campaigns__isnull=True,
    )
    for job in expired.iterator():
        report.contacts_deleted += delete_contacts(job_id=job.pk)
        job.delete()
        report.jobs_deleted += 1
    return report
