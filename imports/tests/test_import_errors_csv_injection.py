"""The row-errors CSV download never hands a spreadsheet a cell it would run as a formula."""

import csv
import io

import pytest

from imports.tests.factories import ImportJobFactory

# Every character a spreadsheet reads as the start of a formula (OWASP's CSV injection list).
FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]


def download(api, job) -> list[list[str]]:
    response = api.get(f"/api/v1/imports/{job.pk}/errors?format=csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode(), newline="")))


@pytest.mark.parametrize("start", FORMULA_STARTS, ids=repr)
def test_a_cell_starting_a_formula_is_quoted_in_every_column(api, user, start):
    value = f"{start}1+1"
    job = ImportJobFactory(owner=user, errors=[{"row": value, "column": value, "message": value}])

    rows = download(api, job)

    assert rows[1] == ["'" + value] * 3


def test_harmless_cells_are_left_as_they_are(api, user):
    job = ImportJobFactory(owner=user, errors=[{"row": 7, "column": "Phone 1+1=2", "message": "'12' is not valid."}])

    rows = download(api, job)

    assert rows[1] == ["7", "Phone 1+1=2", "'12' is not valid."]
