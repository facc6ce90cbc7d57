"""Excel workbooks (.xlsx) uploaded through the API and imported as the worker does: cells as the text Excel
shows, formulas, merged cells, and choosing the sheet."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from imports import services
from imports.models import ImportJob
from imports.tests.conftest import leftover_files
from imports.upload import XLSX_TYPE

Rows = list[list[object]]


def workbook(*sheets: tuple[str, Rows], merged: tuple[str, ...] = ()) -> bytes:
    """A workbook made by openpyxl with these (title, rows) sheets; `merged` ranges are merged in the first."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    for cells in merged:
        book.worksheets[0].merge_cells(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def contacts_sheet(*rows: list[object], header: tuple[str, ...] = ("Name", "Phone")) -> bytes:
    return workbook(("Contacts", [list(header), *rows]))


def with_cached_values(content: bytes, cached: dict[str, str]) -> bytes:
    """The workbook as Excel saves it: each formula followed by the value it last calculated.

    openpyxl writes a formula with an empty value (<v />), as if never calculated; Excel writes <v>value</v>.
    """
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for part in source.infolist():
            data = source.read(part)
            if part.filename.startswith("xl/worksheets/"):
                for formula, value in cached.items():
                    written = f"<f>{formula}</f><v />".encode()
                    assert written in data, f"openpyxl no longer writes {written!r}"
                    data = data.replace(written, f"<f>{formula}</f><v>{value}</v>".encode())
            target.writestr(part, data)
    return out.getvalue()


def upload_and_import(
    api, content: bytes, *, name: str = "contacts.xlsx", content_type: str = XLSX_TYPE, **options
) -> ImportJob:
    """Upload through the API, then run the parser the way the worker does."""
    file = SimpleUploadedFile(name, content, content_type=content_type)
    response = api.post("/api/v1/imports/", {"file": file, **options}, format="multipart")
    assert response.status_code == 202, response.content
    services.import_run(job_id=response.json()["id"])
    return ImportJob.objects.get(pk=response.json()["id"])


# --- Uploads ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [XLSX_TYPE, "application/octet-stream"])
def test_a_workbook_sent_as_its_own_type_or_as_bytes_imports(api, upload_dir, content_type):
    job = upload_and_import(api, contacts_sheet(["Ann Lee", "07400 123456"]), content_type=content_type)

    assert (job.status, job.file_format, job.sheet, job.header_row) == (ImportJob.Status.SUCCESS, "xlsx", "Contacts", 1)
    contact = job.contacts.get()
    assert (contact.phone, contact.name, contact.row_number) == ("+447400123456", "Ann Lee", 2)
    assert job.encoding == ""
    assert leftover_files(upload_dir) == []


# --- Numbers ----------------------------------------------------------------------------------------------------


def test_a_phone_typed_as_a_number_reads_as_the_international_number(api):
    job = upload_and_import(api, contacts_sheet(["Ann", 447400123456]))

    assert job.contacts.get().phone == "+447400123456"


def test_a_decimal_in_a_variable_reads_as_excel_shows_it(api):
    job = upload_and_import(api, contacts_sheet(["Ann", "07400 123456", 3.5], header=("Name", "Phone", "Rating")))

    assert job.contacts.get().variables == {"rating": "3.5"}


def test_a_number_reads_with_the_decimals_its_format_shows(api):
    book = Workbook()
    book.active.append(["Name", "Phone", "Balance", "Total", "Share", "Rating"])
    book.active.append(["Ann", "07400 123456", 39.4, 1234.5, 0.25, 3.5])
    for cell, number_format in (("C2", "0.00"), ("D2", "#,##0.00"), ("E2", "0%")):
        book.active[cell].number_format = number_format
    data = io.BytesIO()
    book.save(data)

    job = upload_and_import(api, data.getvalue())

    assert job.contacts.get().variables == {"balance": "39.40", "total": "1,234.50", "share": "25%", "rating": "3.5"}


def test_a_whole_number_in_a_variable_reads_without_a_decimal_point(api):
    job = upload_and_import(api, contacts_sheet(["Ann", "07400 123456", 42.0, 7], header=("Name", "Phone", "A", "B")))

    assert job.contacts.get().variables == {"a": "42", "b": "7"}


def test_a_sixteen_digit_number_in_a_variable_is_a_row_error_naming_its_column(api):
    rows = [["Ann", "07400 123456", 42], ["Bob", "07400 654321", 1234567890123456]]

    job = upload_and_import(api, contacts_sheet(*rows, header=("Name", "Phone", "Card")))

    assert (job.status, job.imported_rows, job.invalid_rows) == (ImportJob.Status.SUCCESS, 1, 1)
    assert job.errors == [
        {
            "row": 3,
            "column": "Card",
            "message": "Excel holds 1234567890123456 as a number, which keeps only 15 significant digits, so its last "
            "digits may be wrong; format the column as Text in Excel and enter the value again.",
        }
    ]


def test_a_sixteen_digit_number_in_the_phone_column_is_a_row_error_naming_the_phone_column(api):
    job = upload_and_import(api, contacts_sheet(["Ann", "07400 123456"], ["Bob", 4474001234567890]))

    assert [(error["row"], error["column"]) for error in job.errors] == [(3, "Phone")]
    assert job.errors[0]["message"].startswith("Excel holds 4474001234567890 as a number, which keeps only 15")


# --- Dates ------------------------------------------------------------------------------------------------------


def test_a_date_cell_reads_as_an_iso_date(api):
    job = upload_and_import(
        api, contacts_sheet(["Ann", "07400 123456", date(1990, 5, 1)], header=("Name", "Phone", "Born"))
    )

    assert job.contacts.get().variables == {"born": "1990-05-01"}


def test_a_date_and_time_cell_reads_as_an_iso_date_and_time(api):
    job = upload_and_import(
        api, contacts_sheet(["Ann", "07400 123456", datetime(1985, 1, 2, 13, 30)], header=("Name", "Phone", "Since"))
    )

    assert job.contacts.get().variables == {"since": "1985-01-02 13:30:00"}


# --- Formulas ---------------------------------------------------------------------------------------------------


def test_a_formula_without_a_saved_value_reads_as_an_empty_cell(api):
    # openpyxl (like any program that does not calculate) saves a formula with no value; only Excel's last
    # calculation is read, never the formula, so a column of such formulas is empty in every row.
    rows = [["Ann", "07400 123456", "=2*21"], ["Bob", "07400 654321", "=3*21"]]
    content = contacts_sheet(*rows, header=("Name", "Phone", "Total"))

    job = upload_and_import(api, content)

    assert job.status == ImportJob.Status.SUCCESS
    assert job.column_mapping["ignored"] == ["Total"]
    assert list(job.contacts.values_list("variables", flat=True)) == [{}, {}]


def test_a_formula_without_a_saved_value_in_the_phone_column_is_a_missing_number(api):
    job = upload_and_import(api, contacts_sheet(["Ann", "07400 123456"], ["Bob", "=447400000000+654321"]))

    assert job.errors == [{"row": 3, "column": "Phone", "message": "The phone number is missing."}]


def test_a_formula_reads_as_the_value_excel_saved_with_it(api):
    content = contacts_sheet(["Ann", "=447400000000+123456", "=2*21"], header=("Name", "Phone", "Total"))

    job = upload_and_import(api, with_cached_values(content, {"447400000000+123456": "447400123456", "2*21": "42"}))

    contact = job.contacts.get()
    assert (contact.phone, contact.variables) == ("+447400123456", {"total": "42"})


# --- Merged cells -----------------------------------------------------------------------------------------------


def test_a_title_merged_across_the_columns_above_the_header_is_skipped(api):
    rows = [["Customers, November 2026"], ["Name", "Phone", "City", "Plan"], ["Ann", "07400 123456", "Leeds", "Gold"]]
    content = workbook(("Contacts", rows), merged=("A1:D1",))

    job = upload_and_import(api, content)

    assert job.header_row == 2
    contact = job.contacts.get()
    assert (contact.phone, contact.name, contact.variables, contact.row_number) == (
        "+447400123456",
        "Ann",
        {"city": "Leeds", "plan": "Gold"},
        3,
    )


def test_the_second_column_under_a_merged_header_cell_becomes_column_n(api):
    # "Address" spans B and C: only B1 holds it, C1 is blank.
    content = workbook(
        ("Contacts", [["Name", "Address", None, "Phone"], ["Ann", "1 High St", "Leeds", "07400 123456"]]),
        merged=("B1:C1",),
    )

    job = upload_and_import(api, content)

    assert job.contacts.get().variables == {"address": "1 High St", "column_3": "Leeds"}
    assert sorted(job.column_mapping["variables"].values()) == ["address", "column_3"]


def test_the_column_mapping_lists_every_column_under_two_merged_header_cells(api):
    # "Address" spans B:C and "Notes" E:F, so C1 and F1 are both blank headers; the contacts keep both columns
    # (column_3, column_6) and the job's record of what it read must name them both too.
    header = ["Name", "Address", None, "Phone", "Notes", None, "Plan"]
    row = ["Ann", "1 High St", "Leeds", "07400 123456", "VIP", "call first", "Gold"]
    content = workbook(("Contacts", [header, row]), merged=("B1:C1", "E1:F1"))

    job = upload_and_import(api, content)

    assert job.contacts.get().variables == {
        "address": "1 High St",
        "column_3": "Leeds",
        "notes": "VIP",
        "column_6": "call first",
        "plan": "Gold",
    }
    assert sorted(job.column_mapping["variables"].values()) == ["address", "column_3", "column_6", "notes", "plan"]


def test_the_second_column_under_a_merged_header_cell_is_ignored_when_empty(api):
    content = workbook(
        ("Contacts", [["Name", "Address", None, "Phone"], ["Ann", "1 High St", None, "07400 123456"]]),
        merged=("B1:C1",),
    )

    job = upload_and_import(api, content)

    assert job.contacts.get().variables == {"address": "1 High St"}
    assert job.column_mapping["ignored"] == ["column 3"]  # the merge's blank header cell, named by position


def test_the_second_column_under_a_merged_header_cell_at_the_right_edge_becomes_column_n(api):
    # The header row ends at C1, the merge's first cell: openpyxl writes no cell for D1, so the header row is
    # three cells wide while the data rows are four. Column D is still a column of the sheet with data in it:
    # the same sheet saved as CSV has the header "Name,Phone,Address," and imports it as column_4.
    content = workbook(
        ("Contacts", [["Name", "Phone", "Address", None], ["Ann", "07400 123456", "1 High St", "Leeds"]]),
        merged=("C1:D1",),
    )

    job = upload_and_import(api, content)

    assert job.contacts.get().variables == {"address": "1 High St", "column_4": "Leeds"}


# --- Sheets -----------------------------------------------------------------------------------------------------

SUMMARY = ("Summary", [["Region", "Total"], ["North", 2]])
CONTACTS = ("Contacts", [["Name", "Phone"], ["Ann", "07400 123456"], ["Bob", "07400 654321"]])


def test_an_empty_sheet_fails_naming_the_sheet(api, upload_dir):
    job = upload_and_import(api, workbook(("Contacts", [])))

    assert job.status == ImportJob.Status.FAILED
    assert job.failure_reason == "The sheet 'Contacts' has no header row: it is blank."
    assert leftover_files(upload_dir) == []


@pytest.mark.parametrize("sheet", ["Contacts", "contacts", "2"])
def test_the_sheet_option_chooses_a_sheet_by_name_or_by_number(api, sheet):
    job = upload_and_import(api, workbook(SUMMARY, CONTACTS), sheet=sheet)

    assert (job.status, job.sheet, job.imported_rows) == (ImportJob.Status.SUCCESS, "Contacts", 2)
    assert list(job.contacts.values_list("name", flat=True)) == ["Ann", "Bob"]


def test_without_the_sheet_option_the_first_sheet_is_read(api):
    job = upload_and_import(api, workbook(CONTACTS, SUMMARY))

    assert (job.status, job.sheet, job.imported_rows) == (ImportJob.Status.SUCCESS, "Contacts", 2)


def test_a_sheet_that_does_not_exist_fails_listing_the_sheets(api, upload_dir):
    job = upload_and_import(api, workbook(SUMMARY, CONTACTS), sheet="Clients")

    assert job.status == ImportJob.Status.FAILED
    assert job.failure_reason == "The workbook has no sheet 'Clients'; its sheets are 'Summary', 'Contacts'."
    assert leftover_files(upload_dir) == []
