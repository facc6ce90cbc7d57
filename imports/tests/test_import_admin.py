from __future__ import annotations

import hashlib
import os
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from imports.models import ImportJob, ImportPreview
from imports.tests.factories import ImportJobFactory

UPLOAD_URL = "admin:imports_importjob_upload"
CSV = b"phone,name\n07700900123,Ann\n07700900456,Bob\n"
PROCESSING = ImportJob.Status.PROCESSING


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.IMPORT_TMP_DIR = tmp_path
    return tmp_path


@pytest.fixture
def staff(user):
    user.is_staff = True
    user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def csv_file(content: bytes = CSV, name: str = "contacts.csv", content_type: str = "text/csv"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def change_url(job: ImportJob) -> str:
    return reverse("admin:imports_importjob_change", args=[job.pk])


def preview_url(kept: ImportPreview) -> str:
    return reverse("admin:imports_importjob_preview", args=[kept.pk])


def test_staff_upload_a_csv_see_its_preview_and_import_it(staff_client, staff, upload_dir):
    tabbed = CSV.replace(b",", b"\t")
    response = staff_client.post(
        reverse(UPLOAD_URL), {"default_region": "gb", "delimiter": "tab", "file": csv_file(tabbed)}
    )

    kept = ImportPreview.objects.get()
    assertRedirects(response, preview_url(kept))
    assert not ImportJob.objects.exists()
    page = staff_client.get(preview_url(kept))
    assertContains(page, "Its first rows, as they would be imported")
    assertContains(page, "07700900123")

    response = staff_client.post(preview_url(kept), {"default_region": "GB", "delimiter": "tab", "import": "Import"})

    job = ImportJob.objects.get()
    assertRedirects(response, change_url(job))
    assert job.status == PROCESSING
    assert job.owner == staff
    assert (job.original_filename, job.default_region, job.delimiter) == ("contacts.csv", "GB", "\t")
    # Streamed by CSVUploadHandler into the import directory, and kept there for the parser.
    assert os.path.dirname(job.file_path) == str(upload_dir)
    assert job.sha256 == hashlib.sha256(tabbed).hexdigest()
    with open(job.file_path, "rb") as stored:
        assert stored.read() == tabbed
    assert not ImportPreview.objects.exists()


def test_staff_change_the_phone_column_on_the_preview_and_read_it_again(staff_client, upload_dir):
    content = b"Name,Mobile,Office\nAnn,07400 000001,020 7946 0000\n"
    staff_client.post(reverse(UPLOAD_URL), {"file": csv_file(content)})
    kept = ImportPreview.objects.get()

    response = staff_client.post(preview_url(kept), {"phone_column": "Office", "again": "Read"})

    assertRedirects(response, preview_url(kept))
    kept.refresh_from_db()
    assert kept.options["phone_column"] == "Office"
    assertContains(staff_client.get(preview_url(kept)), "+442079460000")


def test_staff_discard_a_preview_and_nothing_is_left(staff_client, upload_dir):
    staff_client.post(reverse(UPLOAD_URL), {"file": csv_file()})

    response = staff_client.post(preview_url(ImportPreview.objects.get()), {"discard": "Discard"})

    assertRedirects(response, reverse("admin:imports_importjob_changelist"))
    assert not ImportPreview.objects.exists()
    assert not ImportJob.objects.exists()
    assert os.listdir(upload_dir) == []


def test_the_import_list_links_to_the_upload_form(staff_client):
    response = staff_client.get(reverse("admin:imports_importjob_changelist"))

    assertContains(response, f'href="{reverse(UPLOAD_URL)}"')
    assertContains(response, "Upload contacts")


def test_adding_an_import_goes_to_the_upload_form(staff_client):
    response = staff_client.get(reverse("admin:imports_importjob_add"))

    assertRedirects(response, reverse(UPLOAD_URL))


def test_the_upload_works_with_csrf_checks_enforced(staff, upload_dir):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    form = client.get(reverse(UPLOAD_URL))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode()).group(1)

    response = client.post(reverse(UPLOAD_URL), {"csrfmiddlewaretoken": token, "file": csv_file()})

    kept = ImportPreview.objects.get()
    assertRedirects(response, preview_url(kept))
    assert os.listdir(upload_dir) == [os.path.basename(kept.file_path)]


def test_an_upload_without_the_csrf_token_is_refused_and_leaves_no_file(staff, upload_dir):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    client.get(reverse(UPLOAD_URL))  # sets the CSRF cookie, so the check reads the body for a token

    response = client.post(reverse(UPLOAD_URL), {"file": csv_file()})

    assert response.status_code == 403
    assert not ImportJob.objects.exists()
    assert os.listdir(upload_dir) == []


def test_a_wrong_file_type_shows_the_error_and_leaves_nothing_behind(staff_client, upload_dir):
    response = staff_client.post(
        reverse(UPLOAD_URL),
        {"phone_column": "Mobile", "file": csv_file(b"\x89PNG", name="photo.png", content_type="image/png")},
    )

    assertContains(response, "Upload a .csv or .xlsx file", status_code=415)
    # The options came before the file, so the form shows them again.
    assertContains(response, 'value="Mobile"', status_code=415)
    assert not ImportJob.objects.exists()
    assert os.listdir(upload_dir) == []


def test_a_file_over_the_size_limit_is_refused_and_leaves_no_file(staff_client, settings, upload_dir):
    settings.IMPORT_MAX_BYTES = 10

    response = staff_client.post(reverse(UPLOAD_URL), {"file": csv_file()})

    assertContains(response, "larger than the limit of 10 bytes", status_code=413)
    assert not ImportJob.objects.exists()
    assert os.listdir(upload_dir) == []


def test_invalid_options_show_the_error_and_leave_no_file(staff_client, upload_dir):
    response = staff_client.post(reverse(UPLOAD_URL), {"default_region": "XX", "file": csv_file()})

    assertContains(response, "is not an ISO 3166 alpha-2 region code", status_code=400)
    assert not ImportJob.objects.exists()
    assert os.listdir(upload_dir) == []


def test_a_staff_user_at_the_processing_limit_is_told_to_wait(staff_client, staff, settings, upload_dir):
    settings.IMPORT_MAX_PROCESSING = 1
    ImportJobFactory(owner=staff, status=PROCESSING, finished_at=None)

    staff_client.post(reverse(UPLOAD_URL), {"file": csv_file()})
    kept = ImportPreview.objects.get()
    response = staff_client.post(preview_url(kept), {"import": "Import"})

    assertContains(response, "at most 1 may run at once", status_code=429)
    assert response["Retry-After"] == "30"
    assert ImportJob.objects.count() == 1
    assert os.listdir(upload_dir) == [os.path.basename(kept.file_path)]  # kept for when one has finished


def test_the_page_of_a_processing_import_refreshes_itself(staff_client):
    job = ImportJobFactory(status=PROCESSING, finished_at=None)

    response = staff_client.get(change_url(job))

    assertContains(response, '<meta http-equiv="refresh" content="2">', html=True)


def test_the_page_of_a_finished_import_stays_still(staff_client):
    job = ImportJobFactory(status=ImportJob.Status.SUCCESS)

    response = staff_client.get(change_url(job))

    assertNotContains(response, 'http-equiv="refresh"')
    assertNotContains(response, "Cancel import")


def test_the_import_page_shows_the_progress_line(staff_client):
    job = ImportJobFactory(
        status=PROCESSING, total_rows=12_000, imported_rows=11_500, invalid_rows=300, duplicate_rows=200
    )

    response = staff_client.get(change_url(job))

    assertContains(response, "12,000 rows read: 11,500 imported, 300 invalid, 200 duplicates")


def test_the_import_page_shows_row_errors_as_a_table(staff_client):
    job = ImportJobFactory(
        invalid_rows=2,
        errors=[{"row": 7, "column": "phone", "message": "<b>abc</b> is not a phone number."}],
    )

    response = staff_client.get(change_url(job))

    assertContains(
        response, "<tr><td>7</td><td>phone</td><td>&lt;b&gt;abc&lt;/b&gt; is not a phone number.</td></tr>", html=True
    )
    assertContains(response, "2 invalid rows (the first 1 are kept).")


def test_staff_cancel_a_processing_import_from_its_page(staff_client):
    job = ImportJobFactory(status=PROCESSING, finished_at=None)
    cancel_url = reverse("admin:imports_importjob_cancel", args=[job.pk])
    assertContains(staff_client.get(change_url(job)), f'action="{cancel_url}"')

    response = staff_client.post(cancel_url)

    assertRedirects(response, change_url(job), fetch_redirect_response=False)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED


def test_cancelling_a_finished_import_changes_nothing(staff_client):
    job = ImportJobFactory(status=ImportJob.Status.SUCCESS)

    response = staff_client.post(reverse("admin:imports_importjob_cancel", args=[job.pk]), follow=True)

    assertContains(response, "only a PROCESSING import can be cancelled")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCESS


def test_the_import_page_saves_nothing(staff_client):
    job = ImportJobFactory(status=PROCESSING, finished_at=None, original_filename="contacts.csv")

    response = staff_client.post(change_url(job), {"status": "SUCCESS", "original_filename": "renamed.csv"})

    assert response.status_code == 403
    job.refresh_from_db()
    assert (job.status, job.original_filename) == (PROCESSING, "contacts.csv")


def test_a_user_who_is_not_staff_is_turned_away(client, user, upload_dir):
    client.force_login(user)
    job = ImportJobFactory(status=PROCESSING, finished_at=None)

    upload = client.post(reverse(UPLOAD_URL), {"file": csv_file()})
    cancel = client.post(reverse("admin:imports_importjob_cancel", args=[job.pk]))

    assert upload.status_code == cancel.status_code == 302
    assert upload["Location"].startswith(reverse("admin:login"))
    job.refresh_from_db()
    assert job.status == PROCESSING
    assert ImportJob.objects.count() == 1
    assert os.listdir(upload_dir) == []
