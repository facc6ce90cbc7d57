"""Reading an uploaded Excel workbook (.xlsx): checked as a zip before anything parses it, then one sheet
read row by row with openpyxl's read-only mode, every cell as the text Excel shows.

Read-only mode streams the sheet's XML, so rows cost no memory once read; what a workbook holds whole is
its shared-string table (every distinct text cell of the workbook, which openpyxl loads when it opens it).
A sheet without a <dimension> (Excel always writes one; some other programs do not) is parsed once through
when the workbook is opened, as openpyxl looks for it: about 4 s and 85 MB more for a million rows.
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import IO, Any

from openpyxl import load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from imports.errors import ImportFileError

WORKBOOK_PART = "xl/workbook.xml"
# A part that expands more than this many times over its compressed size is a zip bomb, not a sheet: a
# real sheet's XML compresses about ten times (its cell references all differ).
MAX_EXPANSION = 100
EXPANSION_FLOOR = 1 << 20  # parts smaller than this expanded are never refused for their ratio
MAX_UNCOMPRESSED = 4 << 30
# Excel holds numbers as doubles shown with 15 significant digits: a whole number this large lost digits.
EXACT_LIMIT = 10**15


class Cells(list):
    """A row's cells as text; `inexact` lists the cells holding numbers Excel could not keep exactly."""

    inexact: tuple[int, ...] = ()


def check_workbook(path: str) -> None:
    """Refuse what is not a zip holding a workbook, and a zip that expands like a bomb, before openpyxl reads it."""
    if not zipfile.is_zipfile(path):
        raise ImportFileError("This is not an Excel workbook (.xlsx): it is not a zip file.")
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise ImportFileError(f"The workbook is damaged and cannot be opened ({exc}).") from exc
    if WORKBOOK_PART not in {part.filename for part in parts}:
        raise ImportFileError("This zip file holds no Excel workbook (no xl/workbook.xml).")
    for part in parts:
        if part.file_size > EXPANSION_FLOOR and part.file_size > MAX_EXPANSION * max(part.compress_size, 1):
            raise ImportFileError(
                f"The workbook's part {part.filename} expands {part.file_size // max(part.compress_size, 1):,} "
                f"times over ({part.file_size:,} bytes): refused as a zip bomb."
            )
    total = sum(part.file_size for part in parts)
    if total > MAX_UNCOMPRESSED:
        raise ImportFileError(f"The workbook expands to {total:,} bytes; at most {MAX_UNCOMPRESSED:,} are read.")


@contextlib.contextmanager
def open_sheet(raw: IO[bytes], sheet: str = "") -> Iterator[ReadOnlyWorksheet]:
    """The sheet named (or numbered from 1) by `sheet`, else the first, open for reading rows."""
    try:
        workbook = load_workbook(raw, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises whatever its zip and XML readers raise on a damaged file
        raise ImportFileError(f"The workbook cannot be read ({type(exc).__name__}: {exc}).") from exc
    try:
        yield _choose(workbook.worksheets, sheet)
    finally:
        workbook.close()


def _choose(sheets: list[Any], wanted: str) -> ReadOnlyWorksheet:
    if not sheets:
        raise ImportFileError("The workbook has no worksheet.")
    if not wanted:
        return sheets[0]
    titles = [ws.title for ws in sheets]
    folded = [title.casefold() for title in titles]
    if wanted in titles:
        return sheets[titles.index(wanted)]
    if wanted.casefold() in folded:
        return sheets[folded.index(wanted.casefold())]
    if wanted.isdigit() and 1 <= int(wanted) <= len(sheets):
        return sheets[int(wanted) - 1]
    raise ImportFileError(f"The workbook has no sheet {wanted!r}; its sheets are {', '.join(map(repr, titles))}.")


def declared_size(ws: ReadOnlyWorksheet) -> tuple[int | None, int | None]:
    """(last row, last column) as the sheet's own dimension names them, when it has one (Excel always writes it)."""
    return ws.max_row, ws.max_column


def sheet_rows(ws: ReadOnlyWorksheet) -> Iterator[Cells]:
    """Every row from the first, blank ones included (so counting them gives the row number Excel shows).

    The sheet's dimension is not trusted to bound the rows (some programs write a wrong one): each row is
    as wide as its last cell.
    """
    ws.reset_dimensions()
    for values in ws.iter_rows(values_only=True):  # type: ignore[misc]  # the stubs type it for Worksheet only
        cells = Cells()
        inexact = []
        for index, value in enumerate(values):
            text, exact = cell_text(value)
            cells.append(text)
            if not exact:
                inexact.append(index)
        if inexact:
            cells.inexact = tuple(inexact)
        yield cells


def cell_text(value: Any) -> tuple[str, bool]:
    """(the text Excel shows for a cell's value, whether that is the value exactly)."""
    kind = type(value)
    if kind is str:
        return value, True
    if value is None:
        return "", True
    if kind is bool:
        return ("TRUE" if value else "FALSE"), True
    if kind is int:
        return str(value), abs(value) < EXACT_LIMIT
    if kind is float:
        if value.is_integer():
            # 447400123456.0 is the number 447400123456: no ".0", no exponent
            return str(int(value)), abs(value) < EXACT_LIMIT
        return format(value, ".15g"), True  # 0.30000000000000004 shows as Excel shows it, 0.3
    if kind is datetime:
        return (value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")), True
    if isinstance(value, date | time):
        return value.isoformat(), True
    if isinstance(value, timedelta):
        return str(value), True
    return str(value), True
