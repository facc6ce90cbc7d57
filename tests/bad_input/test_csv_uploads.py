"""Malformed CSV files: the upload is accepted (202), then the import fails with one clear reason.

Whatever the file, the only row it leaves is its FAILED ImportJob: no contacts, no
temp file, nothing else in any table.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from imports import services
from imports.layout import MAX_COLUMNS
from imports.models import ImportJob
from tests.bad_input.conftest import corpus_bytes, leftover_files
from tests.bad_input.dbstate import changed_rows

ONE_FAILED_JOB = {"imports.ImportJob": 1}


def upload_and_import(api, content: bytes, name: str = "contacts.csv", **options) -> ImportJob:
    """Upload through the API, then run the parser the way the worker does."""
    file = SimpleUploadedFile(name, content, content_type="text/csv")
    response = api.post("/api/v1/imports/", {"file": file, **options}, format="multipart")
    assert response.status_code == 202, response.content
    services.import_run(job_id=response.json()["id"])
    return ImportJob.objects.get(pk=response.json()["id"])


def assert_failed_cleanly(job: ImportJob, before: dict, upload_dir) -> None:
    assert job.status == ImportJob.Status.FAILED
    assert job.imported_rows == 0
    assert not job.contacts.exists()
    assert changed_rows(before) == ONE_FAILED_JOB
    assert leftover_files(upload_dir) == []
    assert job.file_path == ""


@pytest.mark.parametrize(
    ("corpus_file", "reason"),
    [
        ("binary.csv", "The file is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8 and upload it again."),
        ("blank_lines_only.csv", "The file has no header row: it is blank."),
        ("header_only.csv", "The file has a header but no data rows."),
        (
            "no_phone_column.csv",
            "No phone column found in the header ('Name', 'Email', 'City'). "
            "Name it phone, mobile or msisdn, or say which column it is with phone_column.",
        ),
        ("first_line_is_data.csv", "The file has no header row: its first line looks like data. Add a header row."),
        ("no_valid_number.csv", "None of the 3 rows has a valid phone number; see the row errors."),
    ],
)
def test_a_file_that_cannot_be_imported_fails_with_one_clear_reason(api, before, upload_dir, corpus_file, reason):
    job = upload_and_import(api, corpus_bytes(f"csv/{corpus_file}"))

    assert job.failure_reason == reason
    assert_failed_cleanly(job, before, upload_dir)


@pytest.mark.parametrize(
    ("corpus_file", "message"),
    [
        ("zip_renamed.csv", "Upload a .csv or .xlsx file: 'zip_renamed.csv' is named .csv but is an Excel workbook: "
                            "name it .xlsx."),
        ("png_renamed.csv", "Upload a .csv or .xlsx file: 'png_renamed.csv' is named .csv but is not text."),
        ("nul_bytes.csv", "Upload a .csv or .xlsx file: 'nul_bytes.csv' is named .csv but is not text."),
    ],
)  # fmt: skip
def test_a_csv_whose_first_bytes_are_not_text_is_refused_at_upload_with_a_415(
    api, before, upload_dir, corpus_file, message
):
    file = SimpleUploadedFile(corpus_file, corpus_bytes(f"csv/{corpus_file}"), content_type="text/csv")

    response = api.post("/api/v1/imports/", {"file": file}, format="multipart")

    assert response.status_code == 415
    assert response.json()["error"]["message"] == message
    assert changed_rows(before) == {}
    assert leftover_files(upload_dir) == []


def test_an_empty_file_is_refused_at_upload_with_a_400_naming_the_field(api, before, upload_dir):
    file = SimpleUploadedFile("contacts.csv", corpus_bytes("csv/empty.csv"), content_type="text/csv")

    response = api.post("/api/v1/imports/", {"file": file}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"file": ["The submitted file is empty."]}
    assert changed_rows(before) == {}
    assert leftover_files(upload_dir) == []


def test_a_phone_column_named_but_absent_fails_listing_the_header(api, before, upload_dir):
    job = upload_and_import(api, b"Name,Mobile\nAnn,07400 000001\n", phone_column="Handy")

    assert job.failure_reason == "The phone column 'Handy' is not in the header: 'Name', 'Mobile'."
    assert_failed_cleanly(job, before, upload_dir)


def test_ten_thousand_columns_fail_naming_the_count_and_the_limit(api, before, upload_dir):
    header = ",".join(["Phone", *(f"c{i}" for i in range(1, 10_000))])
    row = ",".join(["07400 000001", *("x" for _ in range(1, 10_000))])

    job = upload_and_import(api, f"{header}\n{row}\n".encode())

    assert job.failure_reason == f"The file has 10000 columns; at most {MAX_COLUMNS} are supported."
    assert_failed_cleanly(job, before, upload_dir)


def test_a_one_megabyte_field_in_a_data_row_fails_naming_the_row(api, before, upload_dir):
    huge = "x" * (1 << 20)
    content = f'Name,Phone\nAnn,07400 000001\n"{huge}",07400 000002\n'.encode()

    job = upload_and_import(api, content)

    assert job.failure_reason == (
        "Row 3: the CSV cannot be read: a field is longer than 131,072 characters (is a quote left open?)."
    )
    assert_failed_cleanly(job, before, upload_dir)


def test_a_one_megabyte_field_in_the_header_fails_naming_the_header_row(api, before, upload_dir):
    huge = "x" * (1 << 20)
    content = f'"{huge}",Phone\nAnn,07400 000001\n'.encode()

    job = upload_and_import(api, content)

    assert job.failure_reason == (
        "Row 1: the CSV cannot be read: a field is longer than 131,072 characters (is a quote left open?)."
    )
    assert_failed_cleanly(job, before, upload_dir)


def test_invalid_utf8_in_an_otherwise_utf8_file_fails_naming_the_line_and_byte(api, before, upload_dir):
    # Decoding it as Windows-1252 instead would turn every name's accents into mojibake.
    job = upload_and_import(api, corpus_bytes("csv/invalid_utf8_middle.csv"))

    assert job.failure_reason == (
        "The file is UTF-8 but line 3 has a byte that is not (0xFF at offset 47); "
        "save it as CSV UTF-8 and upload it again."
    )
    assert_failed_cleanly(job, before, upload_dir)


def test_a_windows_1252_file_without_utf8_is_still_read_as_windows_1252(api, user):
    job = upload_and_import(api, "Name,Phone\nJosé,07400 000001\n".encode("cp1252"))

    assert (job.status, job.encoding) == (ImportJob.Status.SUCCESS, "cp1252")
    assert job.contacts.get().name == "José"


@pytest.mark.parametrize(
    ("name", "content_type", "status"),
    [("contacts.png", "image/png", 415), ("contacts.csv", "application/zip", 415), ("contacts.xlsx", "text/csv", 415)],
)
def test_a_file_that_says_it_is_not_csv_is_refused_before_any_job_exists(
    api, before, upload_dir, name, content_type, status
):
    file = SimpleUploadedFile(name, corpus_bytes("csv/png_renamed.csv"), content_type=content_type)

    response = api.post("/api/v1/imports/", {"file": file}, format="multipart")

    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert error["details"] == {"file_name": name, "content_type": content_type}
    assert changed_rows(before) == {}
    assert leftover_files(upload_dir) == []


def test_a_file_over_the_size_limit_is_refused_with_413(api, before, upload_dir, settings):
    settings.IMPORT_MAX_BYTES = 1000
    file = SimpleUploadedFile("contacts.csv", b"Phone\n" + b"07400 000001\n" * 200, content_type="text/csv")

    response = api.post("/api/v1/imports/", {"file": file}, format="multipart")

    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "payload_too_large",
        "message": "The file is larger than the limit of 1,000 bytes.",
        "details": {"max_bytes": 1000},
    }
    assert changed_rows(before) == {}
    assert leftover_files(upload_dir) == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"default_region": "XX"}, "default_region"),
        ({"delimiter": "::"}, "delimiter"),
        ({"phone_column": "p" * 201}, "phone_column"),
    ],
)
def test_bad_options_are_a_400_naming_the_field(api, before, upload_dir, options, field):
    file = SimpleUploadedFile("contacts.csv", b"Phone\n07400 000001\n", content_type="text/csv")

    response = api.post("/api/v1/imports/", {"file": file, **options}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["details"]) == [field]
    assert changed_rows(before) == {}
    assert leftover_files(upload_dir) == []


def test_an_upload_without_a_file_is_a_400_naming_the_field(api, before):
    response = api.post("/api/v1/imports/", {"default_region": "GB"}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"file": ["No file was submitted."]}
    assert changed_rows(before) == {}
