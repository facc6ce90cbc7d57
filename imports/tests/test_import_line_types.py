"""An import records each contact's line type and counts the contacts of each type as it writes them."""

from __future__ import annotations

import re

import pytest
from django.db.models import Count

from imports import admin_page, services
from imports.models import Contact, ImportJob
from imports.tests.factories import ImportJobFactory
from imports.upload import stage_local_file

MIXED = (
    "Name,Phone\n"
    "Mobile,07400 123456\n"
    "Landline,020 7946 0018\n"
    "Freephone,0800 123 4567\n"
    "Premium,0906 123 4567\n"
    "US,+1 201 234 5678\n"
    "Landline again,+44 20 7946 0018\n"
    "Nobody,12\n"
)
LINE_TYPES = {
    "+447400123456": "mobile",
    "+442079460018": "fixed_line",
    "+448001234567": "toll_free",
    "+449061234567": "premium_rate",
    "+12012345678": "mobile",  # fixed line or mobile: phonenumbers cannot tell in North America
}
COUNTS = {"mobile": 2, "fixed_line": 1, "toll_free": 1, "premium_rate": 1}


def test_each_contact_records_its_line_type_and_the_job_counts_the_contacts_imported(run_import):
    job = run_import(MIXED)

    assert dict(Contact.objects.filter(import_job=job).values_list("phone", "line_type")) == LINE_TYPES
    assert (job.imported_rows, job.duplicate_rows, job.invalid_rows) == (5, 1, 1)
    assert job.line_types == COUNTS  # the repeated landline and the invalid row are not contacts


def mixed_rows(mobiles: int) -> str:
    lines = [f"Person {n},07400 {n:06d}" for n in range(mobiles)]
    return MIXED + "\n".join(lines) + "\n" + MIXED.split("\n", 1)[1]  # and every number of MIXED once more


@pytest.mark.parametrize("batch_size", [5000, 40])  # one batch through COPY; many through one INSERT each
@pytest.mark.parametrize("repeats_listed", [True, False])  # the insert answering its rows; the database counting
def test_the_counts_are_exact_on_every_path_a_batch_takes(run_import, monkeypatch, batch_size, repeats_listed):
    monkeypatch.setattr(services, "BATCH_SIZE", batch_size)
    if not repeats_listed:
        monkeypatch.setattr(services, "MAX_KEPT_DUPLICATES", 0)

    job = run_import(mixed_rows(150))

    assert job.imported_rows == 155
    assert job.line_types == {**COUNTS, "mobile": 152}
    written = Contact.objects.filter(import_job=job).values_list("line_type").annotate(n=Count("*"))
    assert job.line_types == dict(written)


def test_the_parser_processes_send_the_line_types_back(run_import, settings):
    settings.IMPORT_PARSE_PROCESSES = 2

    job = run_import(MIXED)

    assert job.line_types == COUNTS
    assert dict(Contact.objects.filter(import_job=job).values_list("phone", "line_type")) == LINE_TYPES


def test_an_import_cancelled_midway_keeps_no_contacts_and_no_counts(user, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    source = tmp_path / "mixed.csv"
    source.write_text(MIXED)
    job = services.import_create(owner_id=user.pk, upload=stage_local_file(str(source)), enqueue=False)

    services.import_run(job_id=job.pk, on_batch=lambda progress: services.import_cancel(job=job))

    job.refresh_from_db()
    assert (job.status, job.imported_rows, job.line_types) == (ImportJob.Status.CANCELLED, 0, {})


def test_the_api_shows_the_counts_and_each_contacts_line_type(api, run_import, user):
    job = run_import(MIXED, user)

    body = api.get(f"/api/v1/imports/{job.pk}").json()
    contacts = api.get(f"/api/v1/imports/{job.pk}/contacts").json()["results"]

    assert body["line_types"] == COUNTS
    assert {c["phone"]: c["line_type"] for c in contacts} == LINE_TYPES


def test_an_import_from_before_line_types_shows_none(api, user):
    job = ImportJobFactory(owner=user)

    assert api.get(f"/api/v1/imports/{job.pk}").json()["line_types"] == {}


def test_a_contact_added_or_edited_in_the_admin_takes_its_numbers_line_type(staff_client, user):
    job = ImportJobFactory(owner=user)
    form = {"import_job": job.pk, "name": "Ann", "variables": "{}", "row_number": 2}

    staff_client.post("/admin/imports/contact/add/", {**form, "phone": "020 7946 0018"})
    added = Contact.objects.get()
    staff_client.post(f"/admin/imports/contact/{added.pk}/change/", {**form, "phone": "07400 123456"})
    edited = Contact.objects.get()

    assert (added.phone, added.line_type) == ("+442079460018", "fixed_line")
    assert (edited.phone, edited.line_type) == ("+447400123456", "mobile")


def test_the_import_page_lists_the_counts_and_marks_the_types_campaigns_skip(run_import):
    job = run_import(MIXED)

    table = admin_page.line_types_table(job)

    assert [cells[:2] for cells in re.findall(r"<tr><td>(.*?)</td><td[^>]*>(.*?)</td><td>(.*?)</td></tr>", table)] == [
        ("Mobile", "2"),
        ("Fixed line", "1"),
        ("Toll-free", "1"),
        ("Premium rate", "1"),
    ]
    assert table.count("campaigns skip these") == 3
    assert admin_page.line_types_table(ImportJobFactory()) == "Not recorded for this import."
