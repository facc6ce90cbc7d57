"""Fault: a qcluster killed with SIGKILL in the middle of a CSV import.

A real `manage.py qcluster` parses a file of several batches; once some batches
are in and others are not, its whole process group (worker, forked parser
processes) is killed. "Some and not others" is made certain, not a matter of
timing: another transaction holds an uncommitted contact with a number of the
eleventh batch, so that batch's insert waits on it while the first ten are in.
The job must never pass for a finished import while it holds part of its
contacts; the watchdog queues it again, and either a restarted qcluster imports
it from the first row with exact counts and no duplicates, or (its attempts
spent) it ends FAILED with a reason. The staged file goes either way.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from imports import services, tasks
from imports.models import Contact, ImportJob
from tests.cluster import kill_group, start_group, tail, wait_until

ROWS = 60_000  # twelve batches of 5,000
STALL_SECONDS = 2
EVERY = 1000  # one duplicate and one invalid number in every thousand rows


def write_csv(path: Path) -> dict[str, int]:
    """A contact list with some duplicates and invalid numbers; returns what an exact import must count."""
    counts = {"total": 0, "invalid": 0, "duplicate": 0}
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("phone,name,order_no\n")
        for i in range(ROWS):
            if i % EVERY == 1:
                phone, kind = f"07400{i - 1:06d}", "duplicate"  # the row above's number again
            elif i % EVERY == 2:
                phone, kind = "12", "invalid"
            else:
                phone, kind = f"07400{i:06d}", None
            out.write(f"{phone},Person {i},A-{i}\n")
            counts["total"] += 1
            if kind:
                counts[kind] += 1
    counts["imported"] = counts["total"] - counts["invalid"] - counts["duplicate"]
    return counts


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.IMPORT_TMP_DIR = tmp_path / "uploads"
    settings.IMPORT_STALL_SECONDS = STALL_SECONDS
    return settings.IMPORT_TMP_DIR


@pytest.fixture
def qcluster(tmp_path, upload_dir):
    """Starts `manage.py qcluster` processes on the test database; kills whatever is left at the end."""
    db = connection.settings_dict
    metrics = tmp_path / "prometheus"
    metrics.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "inboxerr.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "IMPORT_TMP_DIR": str(upload_dir),
        "IMPORT_STALL_SECONDS": str(STALL_SECONDS),
        "IMPORT_PARSE_PROCESSES": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "Q_WORKERS": "1",
    }
    started = []

    def start():
        started.append(start_group(["manage.py", "qcluster"], env=env, log=tmp_path / "qcluster.log"))
        return started[-1]

    start.log = tmp_path / "qcluster.log"
    yield start
    for process in started:
        kill_group(process)


def upload(api, path: Path) -> ImportJob:
    with open(path, "rb") as file:
        response = api.post("/api/v1/imports/", {"file": file, "default_region": "GB"}, format="multipart")
    assert response.status_code == 202, response.content
    return ImportJob.objects.get(pk=response.json()["id"])


# The batch the worker is stopped in: its insert meets a number another transaction is inserting.
HELD_BATCH = 10
HELD_ROW = HELD_BATCH * services.BATCH_SIZE  # the first data row of that batch (a valid, unique number)


@contextlib.contextmanager
def batch_held_up(job: ImportJob) -> Iterator[None]:
    """An uncommitted contact of `job` with the number of row HELD_ROW: the insert of its batch waits on it."""
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]) as holder:
        holder.execute(
            "INSERT INTO imports_contact (owner_id, import_job_id, phone, name, variables, row_number) "
            "VALUES (%s, %s, %s, '', '{}', 0)",
            [job.owner_id, job.pk, f"+447400{HELD_ROW:06d}"],
        )
        try:
            yield
        finally:
            holder.rollback()


def stopped_in_the_held_batch(job: ImportJob) -> bool:
    """The first HELD_BATCH batches are in, and the worker waits on the held number."""
    job.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        waiting = cursor.fetchone()[0]
    return job.status == ImportJob.Status.PROCESSING and job.total_rows == HELD_ROW and waiting > 0


class FinishedImportWatch:
    """Reads the job as a client would, and records any moment it looked finished without all its contacts."""

    def __init__(self, api, job: ImportJob, expected: dict[str, int]):
        self.api, self.job, self.expected = api, job, expected
        self.partial_finishes: list[tuple] = []

    def look(self) -> dict:
        body = self.api.get(f"/api/v1/imports/{self.job.pk}").json()
        if body["status"] != "PROCESSING":
            contacts = Contact.objects.filter(import_job=self.job).count()
            if body["status"] == "SUCCESS" and contacts != self.expected["imported"]:
                self.partial_finishes.append((body["status"], body["imported_rows"], contacts))
        return body


def campaign_on(api, job: ImportJob):
    return api.post(
        "/api/v1/campaigns/", {"name": "Too soon", "message_content": "Hi", "import_id": job.pk}, format="json"
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_killed_import_is_started_again_from_the_first_row_and_counts_exactly(api, qcluster, tmp_path):
    source = tmp_path / "contacts.csv"
    expected = write_csv(source)
    job = upload(api, source)
    staged = Path(job.file_path)
    watch = FinishedImportWatch(api, job, expected)

    with batch_held_up(job):
        doomed = qcluster()
        assert wait_until(lambda: stopped_in_the_held_batch(job), 120), (job.total_rows, tail(qcluster.log))
        kill_group(doomed)
    job.refresh_from_db()
    killed_at = (job.total_rows, Contact.objects.filter(import_job=job).count())

    # Dead and half-done: still PROCESSING, and nothing offers it as a finished import.
    assert job.status == ImportJob.Status.PROCESSING
    assert killed_at[0] == HELD_ROW
    assert 0 < killed_at[1] < expected["imported"]
    assert watch.look()["status"] == "PROCESSING"
    assert job.pk not in [j["id"] for j in api.get("/api/v1/imports/?status=SUCCESS").json()["results"]]
    refused = campaign_on(api, job)
    assert refused.status_code == 400, refused.content
    assert "PROCESSING" in str(refused.json())

    qcluster()
    # The watchdog finds the job once its heartbeat is older than the stall limit, and queues it again.
    assert wait_until(lambda: services.import_requeue_stalled() == [job.pk], seconds=30, interval=0.2)
    finished = wait_until(lambda: watch.look()["status"] != "PROCESSING", seconds=120, interval=0.1)
    assert finished, (watch.look(), tail(qcluster.log))

    job.refresh_from_db()
    contacts = Contact.objects.filter(import_job=job)
    assert watch.partial_finishes == []
    assert job.status == ImportJob.Status.SUCCESS, job.failure_reason
    assert job.attempts == 2
    assert (job.total_rows, job.imported_rows, job.invalid_rows, job.duplicate_rows) == (
        expected["total"], expected["imported"], expected["invalid"], expected["duplicate"],
    )  # fmt: skip
    assert contacts.count() == expected["imported"]
    # Counted afresh by the run that finished, not added to what the killed one had counted.
    assert job.line_types == {"mobile": expected["imported"]}
    assert contacts.values("phone").distinct().count() == expected["imported"]
    assert contacts.values("row_number").distinct().count() == expected["imported"]
    assert not staged.exists()
    assert job.file_path == ""
    assert campaign_on(api, job).status_code == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_import_killed_once_too_often_ends_failed_with_a_reason_and_no_contacts(api, qcluster, tmp_path):
    source = tmp_path / "contacts.csv"
    write_csv(source)
    job = upload(api, source)
    staged = Path(job.file_path)
    # Two earlier workers died on this job; the qcluster below is its last allowed attempt.
    ImportJob.objects.filter(pk=job.pk).update(attempts=services.MAX_ATTEMPTS - 1)

    with batch_held_up(job):
        doomed = qcluster()
        assert wait_until(lambda: stopped_in_the_held_batch(job), 120), (job.total_rows, tail(qcluster.log))
        kill_group(doomed)
    assert Contact.objects.filter(import_job=job).exists()

    assert wait_until(lambda: services.import_requeue_stalled() == [job.pk], seconds=30, interval=0.2)
    # The task the watchdog queued, run here rather than by another qcluster.
    assert tasks.run_import(job.pk) is None

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.failure_reason == "The import was interrupted 3 times and has been given up."
    assert job.imported_rows == 0
    assert not Contact.objects.filter(import_job=job).exists()
    assert not staged.exists()
    assert job.file_path == ""
    assert campaign_on(api, job).status_code == 400
