"""POST /api/v1/imports/: the upload streams to disk and answers 202; bad uploads leave nothing behind."""

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_q.models import OrmQ
from rest_framework.test import APIClient

from imports.models import ImportJob
from imports.tests.conftest import leftover_files
from imports.tests.factories import ImportJobFactory

CSV = b"Name,Phone\nAnn,07400 000001\nBob,07400 000002\n"


def upload(client, content=CSV, name="contacts.csv", content_type="text/csv", **fields):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post("/api/v1/imports/", {"file": file, **fields}, format="multipart")


def test_an_upload_answers_202_with_the_job_and_where_to_watch_it(api, user, upload_dir):
    response = upload(api)

    assert response.status_code == 202
    body = response.json()
    job = ImportJob.objects.get(pk=body["id"])
    assert response["Location"].endswith(f"/api/v1/imports/{job.pk}")
    assert body["status"] == "PROCESSING"
    assert body["sha256"] == hashlib.sha256(CSV).hexdigest()
    assert body["size_bytes"] == len(CSV)
    assert body["original_filename"] == "contacts.csv"
    assert job.owner == user
    # The file waits on disk for the parser, under the upload directory.
    assert Path(job.file_path).read_bytes() == CSV
    assert leftover_files(upload_dir) == [job.file_path.rsplit("/", 1)[1]]


def test_the_parser_is_queued_once_the_job_is_committed(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api)

    assert response.status_code == 202
    assert OrmQ.objects.count() == 1
    assert OrmQ.objects.get().func() == "imports.tasks.run_import"


def test_the_options_are_kept_for_the_parser(api):
    response = upload(api, default_region="us", delimiter="tab", phone_column="Phone", name_column="Name")

    job = ImportJob.objects.get(pk=response.json()["id"])
    assert (job.default_region, job.delimiter, job.phone_column, job.name_column) == ("US", "\t", "Phone", "Name")


def test_the_default_region_comes_from_settings(api, settings):
    settings.PHONE_DEFAULT_REGION = "DE"

    assert upload(api).json()["default_region"] == "DE"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("contacts.txt", "text/csv"),
        ("contacts.xlsx", "text/csv"),
        ("contacts.csv", "image/png"),
        ("contacts.csv", "application/pdf"),
        ("contacts.csv", ""),
    ],
)
def test_anything_but_a_csv_or_xlsx_sent_as_such_is_refused_with_415(api, upload_dir, name, content_type):
    response = upload(api, name=name, content_type=content_type)

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert name in response.json()["error"]["message"]
    assert not ImportJob.objects.exists()
    assert leftover_files(upload_dir) == []


def test_text_plain_with_a_charset_is_accepted(api):
    assert upload(api, content_type="text/plain; charset=utf-8").status_code == 202


def test_a_file_over_the_size_limit_is_refused_while_streaming_with_413(api, settings, upload_dir):
    settings.IMPORT_MAX_BYTES = 100_000

    response = upload(api, content=b"phone\n" + b"+447400000001\n" * 10_000)

    assert response.status_code == 413
    assert response.json()["error"]["details"] == {"max_bytes": 100_000}
    assert not ImportJob.objects.exists()
    assert leftover_files(upload_dir) == []


def test_a_declared_length_over_the_limit_is_refused_before_reading(api, settings, upload_dir):
    settings.IMPORT_MAX_BYTES = 1000

    response = api.post(
        "/api/v1/imports/", data=b"x", content_type="multipart/form-data; boundary=b", CONTENT_LENGTH=10**9
    )

    assert response.status_code == 413
    assert leftover_files(upload_dir) == []


def test_a_sixth_import_while_five_are_processing_is_refused_with_429(api, user, upload_dir):
    ImportJobFactory.create_batch(5, owner=user, status=ImportJob.Status.PROCESSING)

    response = upload(api)

    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert "5 imports processing" in response.json()["error"]["message"]
    assert ImportJob.objects.count() == 5
    assert leftover_files(upload_dir) == []


def test_other_users_processing_imports_do_not_count(api, other_user):
    ImportJobFactory.create_batch(5, owner=other_user, status=ImportJob.Status.PROCESSING)

    assert upload(api).status_code == 202


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"default_region": "XX"}, "default_region"),
        ({"default_region": "GBR"}, "default_region"),
        ({"delimiter": ":"}, "delimiter"),
        ({"phone_column": "x" * 201}, "phone_column"),
    ],
)
def test_bad_options_are_a_400_naming_the_field_and_leave_no_file(api, upload_dir, fields, field):
    response = upload(api, **fields)

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not ImportJob.objects.exists()
    assert leftover_files(upload_dir) == []


def test_a_missing_file_is_a_400_naming_it(api):
    response = api.post("/api/v1/imports/", {"default_region": "GB"}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()["error"]["details"]


def test_an_empty_file_is_a_400(api, upload_dir):
    response = upload(api, content=b"")

    assert response.status_code == 400
    assert "file" in response.json()["error"]["details"]
    assert leftover_files(upload_dir) == []


def test_a_browser_session_uploads_through_the_same_handler_with_csrf_checked(user, upload_dir):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    refused = upload(client)
    client.get("/api/v1/imports/", HTTP_ACCEPT="text/html")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    file = SimpleUploadedFile("contacts.csv", CSV, content_type="text/csv")
    accepted = client.post("/api/v1/imports/", {"file": file}, format="multipart", HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403
    assert accepted.status_code == 202
    assert len(leftover_files(upload_dir)) == 1  # the accepted upload's file only
    assert ImportJob.objects.get().sha256 == hashlib.sha256(CSV).hexdigest()


def test_anonymous_uploads_are_refused_and_store_nothing(client, db, upload_dir):
    response = upload(client)

    assert response.status_code == 401
    assert leftover_files(upload_dir) == []
