"""The parser run: contacts in batches, counters, failures, temp files, restarts."""

import threading

import pytest
from django.utils import timezone

from imports import services
from imports.models import Contact, ImportJob
from imports.signals import import_finished
from imports.tests.conftest import leftover_files
from imports.tests.factories import ImportJobFactory

HEADER = "Name,Mobile,Order No.,City\n"


def rows(n: int, start: int = 0) -> str:
    return "".join(f"Person {i},07400 {i:06d},A-{i},Leeds\n" for i in range(start, start + n))


def test_it_imports_valid_rows_and_counts_every_outcome(run_import, upload_dir):
    job = run_import(HEADER + rows(3) + "Bad,12345,A-x,York\nDup,+44 7400 000001,A-y,Hull\n")

    assert job.status == ImportJob.Status.SUCCESS
    assert (job.total_rows, job.imported_rows, job.invalid_rows, job.duplicate_rows) == (5, 3, 1, 1)
    assert job.errors == [
        {"row": 5, "column": "Mobile", "message": "'12345' is not a valid phone number (read with default region GB)."}
    ]
    assert job.encoding == "utf-8"
    assert job.delimiter == ","
    assert job.column_mapping == {
        "phone": ["Mobile"],
        "name": ["Name"],
        "variables": {"Order No.": "order_no", "City": "city"},
        "ignored": [],
    }
    assert job.header_row == 1
    assert job.started_at
    assert job.finished_at
    contact = job.contacts.get(phone="+447400000001")
    assert (contact.name, contact.variables, contact.row_number) == (
        "Person 1",
        {"order_no": "A-1", "city": "Leeds"},
        3,
    )
    assert contact.owner_id == job.owner_id
    assert leftover_files(upload_dir) == []
    assert job.file_path == ""


def test_a_duplicate_keeps_the_first_row_even_across_batches(run_import):
    text = HEADER + rows(services.BATCH_SIZE + 10) + "Late twin,+447400000002,A-late,Bath\n"

    job = run_import(text)

    assert job.imported_rows == services.BATCH_SIZE + 10
    assert job.duplicate_rows == 1
    assert job.contacts.get(phone="+447400000002").name == "Person 2"
    assert job.duplicates == [{"row": services.BATCH_SIZE + 12, "phone": "+447400000002", "first_row": 4}]


def test_repeats_within_a_batch_are_listed_with_the_row_kept_and_the_first_thousand_kept(run_import):
    twins = "".join(f"Twin {i},07400 000001,A-{i},York\n" for i in range(1200))

    job = run_import(HEADER + rows(3) + twins)

    assert (job.imported_rows, job.duplicate_rows) == (3, 1200)
    assert len(job.duplicates) == services.MAX_KEPT_DUPLICATES
    assert job.duplicates[:2] == [
        {"row": 5, "phone": "+447400000001", "first_row": 3},
        {"row": 6, "phone": "+447400000001", "first_row": 3},
    ]


def test_the_first_thousand_errors_are_kept_and_all_are_counted(run_import):
    text = HEADER + rows(1) + "".join(f"Bad {i},{i},x,y\n" for i in range(1200))

    job = run_import(text)

    assert job.status == ImportJob.Status.SUCCESS
    assert job.invalid_rows == 1200
    assert len(job.errors) == services.MAX_KEPT_ERRORS
    assert job.errors[0]["row"] == 3
    assert job.errors[-1]["row"] == 1002


def test_national_numbers_use_the_jobs_region(run_import):
    job = run_import("phone\n(201) 555-0123\n", default_region="US")

    assert list(job.contacts.values_list("phone", flat=True)) == ["+12015550123"]


def test_options_name_the_columns_and_the_delimiter(run_import):
    job = run_import("Who|Handy|Other\nAnn|07400 000001|x\n", delimiter="|", phone_column="handy", name_column="Who")

    contact = job.contacts.get()
    assert (contact.phone, contact.name, contact.variables) == ("+447400000001", "Ann", {"other": "x"})


def test_a_cp1252_file_is_read_and_its_encoding_recorded(run_import):
    job = run_import("Name;Phone\nMüller;07400 000001\n".encode("cp1252"))

    assert job.encoding == "cp1252"
    assert job.contacts.get().name == "Müller"


def test_the_worker_processes_give_the_same_result(run_import, settings):
    text = HEADER + rows(2 * services.BATCH_SIZE + 7) + "Bad,123,x,y\n"
    in_process = run_import(text)
    settings.IMPORT_PARSE_PROCESSES = 2

    parallel = run_import(text)

    assert (parallel.total_rows, parallel.imported_rows, parallel.invalid_rows) == (
        in_process.total_rows,
        in_process.imported_rows,
        in_process.invalid_rows,
    )
    assert list(parallel.contacts.values_list("phone", "row_number")) == list(
        in_process.contacts.values_list("phone", "row_number")
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "The file is empty."),
        (b"\n\n", "no header row"),
        (b"+447400000001,Ann\n+447400000002,Bob\n", "no header row: its first line looks like data"),
        (b"Name,City\nAnn,Leeds\n", "No phone column found"),
        (b"PK\x03\x04\x14\x00\x00\x00binary", "ZIP archive"),
        (b"phone,name\n+447400000001,\x00\x01\x02", "binary data"),
        (b"phone,name\n+447400000001,\x81\x8d\n", "neither UTF-8 nor Windows-1252"),
        (b"phone,name\n", "a header but no data rows"),
        (b"phone,name\n123,Ann\n456,Bob\n", "None of the 2 rows has a valid phone number"),
    ],
)
def test_a_file_that_cannot_be_imported_fails_with_one_clear_error(run_import, upload_dir, content, reason):
    job = run_import(content)

    assert job.status == ImportJob.Status.FAILED
    assert reason in job.failure_reason
    assert job.finished_at
    assert not job.contacts.exists()
    assert leftover_files(upload_dir) == []


def test_more_rows_than_the_limit_fail_and_remove_the_contacts(run_import, settings, upload_dir):
    settings.IMPORT_MAX_ROWS = 6000  # past the first batch, so some contacts were written

    job = run_import(HEADER + rows(6001))

    assert job.status == ImportJob.Status.FAILED
    assert "more than 6,000 data rows" in job.failure_reason
    assert not Contact.objects.filter(import_job=job).exists()
    assert job.imported_rows == 0
    assert leftover_files(upload_dir) == []


def test_exactly_the_row_limit_is_fine(run_import, settings):
    settings.IMPORT_MAX_ROWS = 5

    assert run_import(HEADER + rows(5)).status == ImportJob.Status.SUCCESS


def test_a_cancel_stops_the_parser_at_the_next_batch(user, tmp_path, upload_dir):
    from imports.upload import stage_local_file

    source = tmp_path / "big.csv"
    source.write_text(HEADER + rows(3 * services.BATCH_SIZE))
    job = services.import_create(owner_id=user.pk, upload=stage_local_file(str(source)), enqueue=False)
    batches = []

    def cancel_after_first_batch(progress):
        batches.append(progress.total)
        if len(batches) == 1:
            services.import_cancel(job=job)

    services.import_run(job_id=job.pk, on_batch=cancel_after_first_batch)

    job.refresh_from_db()
    assert batches == [services.BATCH_SIZE]
    assert job.status == ImportJob.Status.CANCELLED
    assert not job.contacts.exists()
    assert (job.total_rows, job.imported_rows) == (services.BATCH_SIZE, 0)
    assert leftover_files(upload_dir) == []


def test_a_job_cancelled_before_its_parser_started_loses_its_file(user, tmp_path, upload_dir):
    from imports.upload import stage_local_file

    source = tmp_path / "a.csv"
    source.write_text(HEADER + rows(2))
    job = services.import_create(owner_id=user.pk, upload=stage_local_file(str(source)), enqueue=False)
    services.import_cancel(job=job)

    assert services.import_run(job_id=job.pk) is None
    assert leftover_files(upload_dir) == []


def test_running_a_finished_job_again_does_nothing(run_import):
    job = run_import(HEADER + rows(2))

    assert services.import_run(job_id=job.pk) is None
    assert job.contacts.count() == 2


def test_a_job_another_worker_is_parsing_is_left_alone(user):
    job = ImportJobFactory(
        owner=user, status=ImportJob.Status.PROCESSING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )

    assert services.import_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.attempts == 0


def test_a_job_whose_worker_died_is_restarted_from_the_first_row(run_import, user, tmp_path, settings):
    from imports.upload import stage_local_file

    source = tmp_path / "a.csv"
    source.write_text(HEADER + rows(3))
    job = services.import_create(owner_id=user.pk, upload=stage_local_file(str(source)), enqueue=False)
    # What a worker killed mid-way leaves: a claimed job, some contacts, a heartbeat long past.
    long_ago = timezone.now() - timezone.timedelta(seconds=settings.IMPORT_STALL_SECONDS + 1)
    ImportJob.objects.filter(pk=job.pk).update(
        started_at=long_ago, heartbeat_at=long_ago, attempts=1, total_rows=2, imported_rows=2
    )
    job.contacts.create(owner=user, phone="+447400000000", name="Person 0", variables={}, row_number=2)
    job.contacts.create(owner=user, phone="+447400000001", name="Person 0", variables={}, row_number=3)

    assert services.import_requeue_stalled() == [job.pk]
    services.import_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCESS
    assert job.attempts == 2
    assert (job.total_rows, job.imported_rows, job.duplicate_rows) == (3, 3, 0)
    assert job.contacts.get(phone="+447400000001").name == "Person 1"


def test_a_job_interrupted_too_often_is_failed(user, settings, upload_dir):
    long_ago = timezone.now() - timezone.timedelta(seconds=settings.IMPORT_STALL_SECONDS + 1)
    job = ImportJobFactory(
        owner=user,
        status=ImportJob.Status.PROCESSING,
        started_at=long_ago,
        heartbeat_at=long_ago,
        attempts=services.MAX_ATTEMPTS,
    )

    assert services.import_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "interrupted 3 times" in job.failure_reason


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_running_one_job_at_once_import_it_once(user, tmp_path, upload_dir):
    from django.db import connection

    from imports.upload import stage_local_file

    source = tmp_path / "a.csv"
    source.write_text(HEADER + rows(2 * services.BATCH_SIZE))
    job = services.import_create(owner_id=user.pk, upload=stage_local_file(str(source)), enqueue=False)
    results = []

    def worker():
        try:
            results.append(services.import_run(job_id=job.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    job.refresh_from_db()
    assert sorted(r is None for r in results) == [False, True]
    assert job.status == ImportJob.Status.SUCCESS
    assert job.attempts == 1
    assert job.contacts.count() == 2 * services.BATCH_SIZE


@pytest.mark.postgres
def test_contacts_are_written_with_copy_on_postgresql(run_import, django_assert_max_num_queries):
    # COPY plus one INSERT ... SELECT per batch, whatever the batch size: never a query per row.
    with django_assert_max_num_queries(40):
        job = run_import(HEADER + rows(2 * services.BATCH_SIZE))

    assert job.imported_rows == 2 * services.BATCH_SIZE


@pytest.fixture
def announced():
    """The (job_id, status) of every import_finished signal sent during the test."""
    heard = []

    def receiver(sender, *, job_id, status, **kwargs):
        heard.append((job_id, status))

    import_finished.connect(receiver)
    yield heard
    import_finished.disconnect(receiver)


def test_a_finished_job_is_announced_once_committed(user, tmp_path, announced, django_capture_on_commit_callbacks):
    from imports.upload import stage_local_file

    source = tmp_path / "a.csv"
    source.write_text(HEADER + rows(1))
    job = services.import_create(owner_id=user.pk, upload=stage_local_file(str(source)), enqueue=False)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.import_run(job_id=job.pk)
    assert announced == []  # nothing is said before the status is committed
    for callback in callbacks:
        callback()

    assert announced == [(job.pk, ImportJob.Status.SUCCESS)]


def test_a_cancelled_job_is_announced_too(user, announced, django_capture_on_commit_callbacks):
    job = ImportJobFactory(owner=user, status=ImportJob.Status.PROCESSING)

    with django_capture_on_commit_callbacks(execute=True):
        services.import_cancel(job=job)

    assert announced == [(job.pk, ImportJob.Status.CANCELLED)]


def test_an_import_asked_to_stop_leaves_its_file_and_a_stale_heartbeat_for_the_watchdog(
    user, tmp_path, settings, monkeypatch
):
    from pathlib import Path

    from imports.upload import stage_local_file
    from inboxerr import shutdown

    source = tmp_path / "a.csv"
    source.write_text(HEADER + rows(2 * services.BATCH_SIZE))
    job = services.import_create(owner_id=user.pk, upload=stage_local_file(str(source)), enqueue=False)
    monkeypatch.setattr(shutdown, "requested", lambda: True)

    assert services.import_run(job_id=job.pk) is None

    job.refresh_from_db()
    assert job.status == ImportJob.Status.PROCESSING
    assert job.total_rows == services.BATCH_SIZE  # one batch in, then it stopped
    assert Path(job.file_path).exists()
    assert services.import_requeue_stalled() == [job.pk]


def test_a_stop_asked_for_does_not_use_up_one_of_the_jobs_attempts(user, tmp_path, monkeypatch):
    from imports.upload import stage_local_file
    from inboxerr import shutdown

    source = tmp_path / "a.csv"
    source.write_text(HEADER + rows(2 * services.BATCH_SIZE))
    job = services.import_create(owner_id=user.pk, upload=stage_local_file(str(source)), enqueue=False)
    monkeypatch.setattr(shutdown, "requested", lambda: True)

    services.import_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.attempts == 0


def test_a_cancel_that_lands_as_the_worker_stops_ends_the_job_as_a_cancel(user, tmp_path, monkeypatch):
    from pathlib import Path

    from imports.upload import stage_local_file
    from inboxerr import shutdown

    source = tmp_path / "a.csv"
    source.write_text(HEADER + rows(2 * services.BATCH_SIZE))
    job = services.import_create(owner_id=user.pk, upload=stage_local_file(str(source)), enqueue=False)
    staged = Path(job.file_path)

    def cancelled_and_stopping() -> bool:
        services.import_cancel(job=ImportJob.objects.get(pk=job.pk))  # the user, between two batches
        return True

    monkeypatch.setattr(shutdown, "requested", cancelled_and_stopping)

    services.import_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED
    assert not Contact.objects.filter(import_job=job).exists()
    assert not staged.exists()
