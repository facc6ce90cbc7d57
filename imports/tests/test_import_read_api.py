"""Reading imports: list and filter, progress, contacts, row errors as JSON and as a safe CSV, cancel."""

import csv
import io

import pytest

from imports.models import ImportJob
from imports.tests.factories import ContactFactory, ImportJobFactory


def test_the_list_shows_own_jobs_filtered_by_status(api, user, other_user):
    done = ImportJobFactory(owner=user, status=ImportJob.Status.SUCCESS)
    running = ImportJobFactory(owner=user, status=ImportJob.Status.PROCESSING)
    ImportJobFactory(owner=other_user, status=ImportJob.Status.PROCESSING)

    everything = api.get("/api/v1/imports/").json()["results"]
    processing = api.get("/api/v1/imports/?status=PROCESSING").json()["results"]

    assert [j["id"] for j in everything] == [running.pk, done.pk]
    assert [j["id"] for j in processing] == [running.pk]


def test_a_job_shows_its_live_counters(api, user):
    job = ImportJobFactory(
        owner=user,
        status=ImportJob.Status.PROCESSING,
        total_rows=5000,
        imported_rows=4900,
        invalid_rows=60,
        duplicate_rows=40,
    )

    body = api.get(f"/api/v1/imports/{job.pk}").json()

    assert (body["total_rows"], body["imported_rows"], body["invalid_rows"], body["duplicate_rows"]) == (
        5000,
        4900,
        60,
        40,
    )
    assert body["errors_url"].endswith(f"/api/v1/imports/{job.pk}/errors")


def test_contacts_are_paginated_in_file_order(api, user):
    job = ImportJobFactory(owner=user)
    contacts = ContactFactory.create_batch(3, import_job=job)

    first = api.get(f"/api/v1/imports/{job.pk}/contacts?page_size=2").json()
    second = api.get(first["next"]).json()

    assert [c["phone"] for c in first["results"] + second["results"]] == [c.phone for c in contacts]
    assert second["next"] is None


ERRORS = [
    {"row": 2, "column": "Phone", "message": "'12' is not a valid phone number."},
    {"row": 3, "column": '=HYPERLINK("http://evil")', "message": "+cmd|' /C calc'!A0"},
    {"row": 4, "column": "@SUM(1+1)", "message": "-2+3"},
]


def test_row_errors_are_paginated_json(api, user):
    job = ImportJobFactory(owner=user, errors=ERRORS, invalid_rows=3)

    body = api.get(f"/api/v1/imports/{job.pk}/errors?page_size=2").json()

    assert body["count"] == 3
    assert body["results"] == ERRORS[:2]


def test_row_errors_download_as_csv_with_formulas_neutralised(api, user):
    job = ImportJobFactory(owner=user, errors=ERRORS)

    response = api.get(f"/api/v1/imports/{job.pk}/errors?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="import-{job.pk}-errors.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["row", "column", "message"],
        ["2", "Phone", "'12' is not a valid phone number."],
        ["3", '\'=HYPERLINK("http://evil")', "'+cmd|' /C calc'!A0"],
        ["4", "'@SUM(1+1)", "'-2+3"],
    ]


def test_cancel_stops_a_processing_job(api, user):
    job = ImportJobFactory(owner=user, status=ImportJob.Status.PROCESSING)

    response = api.post(f"/api/v1/imports/{job.pk}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED
    assert job.finished_at


@pytest.mark.parametrize("status", ["SUCCESS", "FAILED", "CANCELLED"])
def test_a_finished_job_cannot_be_cancelled(api, user, status):
    job = ImportJobFactory(owner=user, status=status)

    response = api.post(f"/api/v1/imports/{job.pk}/cancel")

    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"status": status}


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("get", "/contacts"), ("get", "/errors"), ("get", "/errors?format=csv"), ("post", "/cancel")],
)
def test_another_users_job_is_404_everywhere(api, other_user, method, suffix):
    job = ImportJobFactory(owner=other_user, status=ImportJob.Status.PROCESSING)
    ContactFactory(import_job=job)

    response = getattr(api, method)(f"/api/v1/imports/{job.pk}{suffix}")

    assert response.status_code == 404
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PROCESSING
