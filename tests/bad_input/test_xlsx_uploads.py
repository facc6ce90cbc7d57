"""Malformed Excel workbooks (.xlsx): what is not a workbook is refused at upload (415); a workbook that
is one but cannot be imported is accepted (202) and its import fails with one clear reason.

A refusal leaves no row in any table; a failed import leaves only its FAILED ImportJob. Neither leaves a
temp file. The big workbooks are written here part by part with zipfile, the sheet's XML streamed.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from imports import services
from imports.models import ImportJob
from imports.upload import XLSX_TYPE
from tests.bad_input.conftest import corpus_bytes, leftover_files
from tests.bad_input.dbstate import changed_rows
from tests.bad_input.test_csv_uploads import assert_failed_cleanly

SHEET_PART = "xl/worksheets/sheet1.xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# The parts a workbook needs besides its sheet: what the package holds and where its one sheet is.
WORKBOOK_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{OFFICE_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{MAIN}" '
        f'xmlns:r="{OFFICE_RELATIONSHIPS}"><sheets><sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{OFFICE_RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>'
        "</Relationships>"
    ),
}
HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>Phone</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>Order</t></is></c></row>'
)


def write_workbook(path: Path, sheet_xml: Iterable[bytes]) -> Path:
    """A workbook whose one sheet's XML is the chunks given, streamed into the zip as they come."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in WORKBOOK_PARTS.items():
            archive.writestr(name, text)
        with archive.open(SHEET_PART, "w") as sheet:
            for chunk in sheet_xml:
                sheet.write(chunk)
    return path


def contact_sheet(rows: int, *, dimension: str | None) -> Iterator[bytes]:
    """A sheet with a Phone and Order header and `rows` data rows, written ten thousand rows at a time."""
    yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}">'.encode()
    if dimension:
        yield f'<dimension ref="{dimension}"/>'.encode()
    yield f"<sheetData>{HEADER_ROW}".encode()
    last = rows + 1
    for start in range(2, last + 1, 10_000):
        yield "".join(
            f'<row r="{n}"><c r="A{n}"><v>{447400000000 + n}</v></c><c r="B{n}"><v>{n}</v></c></row>'
            for n in range(start, min(start + 10_000, last + 1))
        ).encode()
    yield b"</sheetData></worksheet>"


def upload(api, content: bytes, name: str = "contacts.xlsx", content_type: str = XLSX_TYPE):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return api.post("/api/v1/imports/", {"file": file}, format="multipart")


def upload_and_import(api, content: bytes, name: str = "contacts.xlsx") -> ImportJob:
    """Upload through the API, then run the parser the way the worker does."""
    response = upload(api, content, name)
    assert response.status_code == 202, response.content
    services.import_run(job_id=response.json()["id"])
    return ImportJob.objects.get(pk=response.json()["id"])


def assert_refused_cleanly(response, before: dict, upload_dir) -> None:
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert changed_rows(before) == {}
    assert leftover_files(upload_dir) == []


# --- Refused at upload ------------------------------------------------------------------------------------------


def test_an_xlsx_that_is_not_a_zip_is_refused_at_upload_with_a_415(api, before, upload_dir):
    response = upload(api, corpus_bytes("xlsx/not_a_zip.xlsx"), "not_a_zip.xlsx")

    assert response.json()["error"]["message"] == (
        "Upload a .csv or .xlsx file: 'not_a_zip.xlsx' is not an Excel workbook (it is not a zip)."
    )
    assert response.json()["error"]["details"] == {"file_name": "not_a_zip.xlsx"}
    assert_refused_cleanly(response, before, upload_dir)


def test_a_zip_without_a_workbook_is_refused_at_upload_with_a_415(api, before, upload_dir):
    # A Word document (.docx) renamed .xlsx: a zip, but with no xl/workbook.xml in it.
    response = upload(api, corpus_bytes("xlsx/no_workbook.xlsx"), "no_workbook.xlsx")

    assert response.json()["error"]["message"] == (
        "Upload a .csv or .xlsx file: 'no_workbook.xlsx' is a zip file but holds no Excel workbook."
    )
    assert_refused_cleanly(response, before, upload_dir)


@pytest.mark.parametrize("content_type", [XLSX_TYPE, "application/octet-stream"])
def test_an_old_xls_or_a_password_protected_workbook_is_refused_at_upload_saying_so(
    api, before, upload_dir, content_type
):
    # Both are OLE2 compound files (b"\xd0\xcf\x11\xe0..."): Excel encrypts a workbook saved with a password into one.
    response = upload(api, corpus_bytes("xlsx/old_excel.xlsx"), "old_excel.xlsx", content_type)

    assert response.json()["error"]["message"] == (
        "Upload a .csv or .xlsx file: 'old_excel.xlsx' is an old Excel (.xls) file or a workbook saved with a "
        "password. Save it from Excel as an Excel Workbook (.xlsx) without a password, or as CSV UTF-8."
    )
    assert_refused_cleanly(response, before, upload_dir)


def test_a_file_named_xls_is_refused_at_upload_by_its_name(api, before, upload_dir):
    response = upload(api, corpus_bytes("xlsx/old_excel.xlsx"), "contacts.xls", "application/vnd.ms-excel")

    assert response.json()["error"]["message"] == (
        "Upload a .csv or .xlsx file; got 'contacts.xls' sent as application/vnd.ms-excel."
    )
    assert_refused_cleanly(response, before, upload_dir)


# --- Accepted, then failed --------------------------------------------------------------------------------------


def test_a_zip_bomb_is_accepted_then_fails_as_a_zip_bomb(api, before, upload_dir, tmp_path):
    # 50 MB of whitespace between two rows: valid XML, which deflate squeezes about a thousand times.
    start = f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData>{HEADER_ROW}'.encode()
    end = b'<row r="2"><c r="A2"><v>447400123456</v></c></row></sheetData></worksheet>'
    sheet = [start, *[b" " * (1 << 20)] * 50, end]
    path = write_workbook(tmp_path / "bomb.xlsx", sheet)
    part = zipfile.ZipFile(path).getinfo(SHEET_PART)
    assert part.file_size > 50 * (1 << 20)
    assert part.file_size > 100 * part.compress_size

    job = upload_and_import(api, path.read_bytes())

    assert job.failure_reason == (
        f"The workbook's part {SHEET_PART} expands {part.file_size // part.compress_size:,} times over "
        f"({part.file_size:,} bytes): refused as a zip bomb."
    )
    assert job.header_row is None  # refused before a row was read
    assert_failed_cleanly(job, before, upload_dir)


def test_a_workbook_of_a_million_and_one_rows_fails_from_its_dimension_before_its_rows_are_read(
    api, before, upload_dir, tmp_path
):
    path = write_workbook(tmp_path / "big.xlsx", contact_sheet(1_000_001, dimension="A1:B1000002"))
    part = zipfile.ZipFile(path).getinfo(SHEET_PART)
    assert part.file_size < 100 * part.compress_size  # no zip bomb: the rows all differ

    job = upload_and_import(api, path.read_bytes())

    assert job.failure_reason == "The file has more than 1,000,000 data rows; split it and upload the parts."
    # Not a batch was parsed: counting the rows instead would have written a million contacts first.
    assert job.total_rows == 0
    assert job.header_row == 1
    assert_failed_cleanly(job, before, upload_dir)


def test_a_workbook_without_a_dimension_is_stopped_by_counting_its_rows(api, before, upload_dir, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 10
    path = write_workbook(tmp_path / "undeclared.xlsx", contact_sheet(11, dimension=None))

    job = upload_and_import(api, path.read_bytes())

    assert job.failure_reason == "The file has more than 10 data rows; split it and upload the parts."
    assert job.total_rows == 0  # the first batch was refused before it was written
    assert_failed_cleanly(job, before, upload_dir)


def test_a_workbook_whose_dimension_claims_fewer_rows_is_stopped_by_counting_them(
    api, before, upload_dir, tmp_path, settings
):
    settings.IMPORT_MAX_ROWS = 10
    path = write_workbook(tmp_path / "understated.xlsx", contact_sheet(11, dimension="A1:B2"))

    job = upload_and_import(api, path.read_bytes())

    assert job.failure_reason == "The file has more than 10 data rows; split it and upload the parts."
    assert_failed_cleanly(job, before, upload_dir)


def test_a_workbook_without_a_dimension_at_exactly_the_row_limit_imports(api, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 10
    path = write_workbook(tmp_path / "undeclared.xlsx", contact_sheet(10, dimension=None))

    job = upload_and_import(api, path.read_bytes())

    assert (job.status, job.imported_rows) == (ImportJob.Status.SUCCESS, 10)
    assert job.contacts.first().phone == "+447400000002"
