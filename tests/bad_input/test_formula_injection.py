"""Cells a spreadsheet would run as formulas (=HYPERLINK, +cmd, -1+1, @SUM) are neutralised wherever we write CSV."""

from __future__ import annotations

import csv
import io

from inboxerr.csv_stream import FORMULA_PREFIXES
from tests.bad_input.conftest import corpus_bytes


def test_the_errors_download_quotes_every_formula_cell(api, run_import_text):
    job = run_import_text(corpus_bytes("csv/formula_injection.csv").decode())
    assert (job.status, job.imported_rows, job.invalid_rows) == ("SUCCESS", 1, 4)

    response = api.get(f"/api/v1/imports/{job.pk}/errors?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["row", "column", "message"]
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_PREFIXES)]
    # The header "=Phone" was found as the phone column; its name comes back quoted, not as a formula.
    assert {row[1] for row in rows[1:]} == {"'=Phone"}
    assert [row[0] for row in rows[1:]] == ["2", "3", "4", "5"]
    assert rows[1][2] == "'=HYPERLINK(\"http://evil.example\")' is not a phone number."


def test_formula_cells_are_kept_verbatim_as_contact_data(api, run_import_text):
    # A text message is not a spreadsheet: the value is data, sent exactly as the file had it.
    job = run_import_text(corpus_bytes("csv/formula_injection.csv").decode())

    contact = job.contacts.get()
    assert contact.variables == {"note": "=2+2"}
    assert job.column_mapping["variables"] == {"@Note": "note"}


def test_an_error_message_that_starts_like_a_formula_is_quoted(api, run_import_text):
    job = run_import_text("Name,Phone,\"=cmd|' /C calc'!A0\"\nAnn,07400 000001," + "x" * 1001 + "\n")

    response = api.get(f"/api/v1/imports/{job.pk}/errors?format=csv")

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1] == ["2", "'=cmd|' /C calc'!A0", "The value is longer than 1000 characters."]
