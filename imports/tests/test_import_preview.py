"""POST /api/v1/imports/preview: what an import would make of a file, nothing imported, and an import made
from the kept file with other columns, without uploading it again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from imports import services
from imports.models import Contact, ImportJob, ImportPreview
from imports.preview import PREVIEW_ROWS
from imports.tests.conftest import leftover_files

HUBSPOT = (
    "First Name,Last Name,Phone Number,Mobile Phone Number,Fax\n"
    "Ann,Lee,020 7946 0000,07400 000001,\n"
    "Bob,Ray,020 7946 0001,,\n"
    "Cy,Fox,,,\n"
)


def preview(api, content: str | bytes = HUBSPOT, name="contacts.csv", content_type="text/csv", **options):
    data = content.encode() if isinstance(content, str) else content
    file = SimpleUploadedFile(name, data, content_type=content_type)
    response = api.post("/api/v1/imports/preview", {"file": file, **options}, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_preview_answers_the_layout_and_the_first_rows_and_imports_nothing(api, upload_dir):
    body = preview(api)

    assert (body["encoding"], body["delimiter"], body["header_row"]) == ("utf-8", ",", 1)
    assert body["column_mapping"] == {
        "phone": ["Mobile Phone Number", "Phone Number"],
        "name": ["First Name", "Last Name"],
        "variables": {"First Name": "first_name", "Last Name": "last_name"},
        "ignored": ["Fax"],
    }
    assert body["rows"][0] == {
        "row": 2,
        "contact": {
            "phone": "+447400000001",
            "phone_column": "Mobile Phone Number",
            "name": "Ann Lee",
            "variables": {"first_name": "Ann", "last_name": "Lee"},
            "line_type": "mobile",
        },
        "error": None,
    }
    assert body["rows"][1]["contact"]["line_type"] == "fixed_line"
    assert body["rows"][2] == {
        "row": 4,
        "contact": None,
        "error": {
            "row": 4,
            "column": "Mobile Phone Number",
            "message": "The phone number is missing (looked in Mobile Phone Number, Phone Number).",
        },
    }
    assert body["rows_estimate"] == 3
    assert body["failure_reason"] == ""
    assert not ImportJob.objects.exists()
    assert not Contact.objects.exists()
    # The file is kept for the import that may follow.
    assert len(leftover_files(upload_dir)) == 1


def test_a_preview_shows_only_the_first_rows_and_estimates_a_big_file(api):
    rows = "".join(f"Person {i},07400 {i:06d}\n" for i in range(60_000))  # about 1.4 MB

    body = preview(api, "Name,Mobile\n" + rows)

    assert len(body["rows"]) == PREVIEW_ROWS
    assert 54_000 <= body["rows_estimate"] <= 66_000


def test_a_file_that_cannot_be_imported_is_previewed_with_the_reason_and_read_again_with_a_column(api):
    body = preview(api, "Name,Kontakt\nAnn,07400 000001\n")

    assert body["failure_reason"].startswith("No phone column found in the header ('Name', 'Kontakt').")
    assert body["rows"] == []

    again = api.post("/api/v1/imports/preview", {"preview": body["id"], "phone_column": "Kontakt"}, format="json")

    assert again.status_code == 200
    assert again.json()["rows"][0]["contact"]["phone"] == "+447400000001"
    assert again.json()["options"]["phone_column"] == "Kontakt"


def test_an_import_made_from_a_preview_takes_its_file_and_the_changed_columns(api, user, upload_dir):
    body = preview(api)

    response = api.post("/api/v1/imports/", {"preview": body["id"], "phone_column": "Phone Number"}, format="json")

    assert response.status_code == 202
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert (job.original_filename, job.phone_column, job.owner) == ("contacts.csv", "Phone Number", user)
    assert not ImportPreview.objects.exists()  # used up: the job owns the file now
    services.import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCESS
    assert sorted(job.contacts.values_list("phone", flat=True)) == ["+442079460000", "+442079460001"]
    assert leftover_files(upload_dir) == []

    again = api.post("/api/v1/imports/", {"preview": body["id"]}, format="json")
    assert again.status_code == 404
    assert "Upload the file again" in again.json()["error"]["message"]


def test_another_users_preview_is_not_found(api, other_api):
    body = preview(api)

    assert other_api.post("/api/v1/imports/", {"preview": body["id"]}, format="json").status_code == 404
    assert other_api.post("/api/v1/imports/preview", {"preview": body["id"]}, format="json").status_code == 404
    assert other_api.delete(f"/api/v1/imports/preview/{body['id']}").status_code == 404
    assert ImportPreview.objects.count() == 1


def test_a_preview_can_be_discarded_with_its_file(api, upload_dir):
    body = preview(api)

    assert api.delete(f"/api/v1/imports/preview/{body['id']}").status_code == 204
    assert not ImportPreview.objects.exists()
    assert leftover_files(upload_dir) == []


def test_an_expired_preview_cannot_be_imported_and_the_clean_up_removes_it(api, settings, upload_dir):
    body = preview(api)
    ImportPreview.objects.update(created_at=timezone.now() - timedelta(seconds=settings.IMPORT_PREVIEW_SECONDS + 1))

    assert api.post("/api/v1/imports/", {"preview": body["id"]}, format="json").status_code == 404
    report = services.import_cleanup()

    assert report.previews_expired == 1
    assert not ImportPreview.objects.exists()
    assert leftover_files(upload_dir) == []


def test_a_live_previews_file_is_not_swept_as_an_orphan(api, settings, upload_dir):
    preview(api)
    settings.IMPORT_STALL_SECONDS = -1  # every file is old enough to be swept if nobody owns it

    assert services.import_cleanup().files_removed == 0
    assert len(leftover_files(upload_dir)) == 1


def test_a_user_keeps_at_most_the_preview_limit(api, settings):
    settings.IMPORT_MAX_PREVIEWS = 2
    preview(api)
    preview(api)

    file = SimpleUploadedFile("c.csv", HUBSPOT.encode(), content_type="text/csv")
    response = api.post("/api/v1/imports/preview", {"file": file}, format="multipart")

    assert response.status_code == 429
    assert ImportPreview.objects.count() == 2


def test_a_workbook_is_previewed_with_its_sheet_and_declared_rows(api, tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Kunden"
    for row in (["Nome", "Celular"], ["Ana Souza", "11 91234 5678"], ["Bia Lima", "11 99876 5432"]):
        workbook.active.append(row)
    path = tmp_path / "clientes.xlsx"
    workbook.save(path)

    body = preview(
        api,
        Path(path).read_bytes(),
        name="clientes.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        default_region="BR",
    )

    assert (body["file_format"], body["sheet"], body["header_row"], body["rows_estimate"]) == ("xlsx", "Kunden", 1, 2)
    assert [row["contact"]["phone"] for row in body["rows"]] == ["+5511912345678", "+5511998765432"]
    assert [row["contact"]["name"] for row in body["rows"]] == ["Ana Souza", "Bia Lima"]
