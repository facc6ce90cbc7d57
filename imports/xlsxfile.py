"""Reading an uploaded Excel workbook (.xlsx): checked as a zip before anything parses it, then one sheet
read row by row with openpyxl's read-only mode, every cell as the text Excel shows.

Read-only mode streams the sheet's XML, so rows cost no memory once read; what a workbook holds whole is
its shared-string table (every distinct text cell of the workbook). openpyxl keeps it as a list of Python
strings, about 350 MB for the two million distinct texts of a million-row contact list; SharedStrings holds
the same texts as UTF-8 in one buffer with their offsets (about a tenth of that), read by a parser that
lets go of each entry once read.
A sheet without a <dimension> (Excel always writes one; some other programs do not) is parsed once through
when the workbook is opened, as openpyxl looks for it: about 4 s and 85 MB more for a million rows.
"""

from __future__ import annotations

import contextlib
import re
import zipfile
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import IO, Any

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

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


class SharedStrings(Sequence[str]):
    """A workbook's shared strings as UTF-8 in one buffer, with where each ends: what a sheet's text cells
    point into by index. A tenth of the memory of a list of Python strings for short texts."""

    def __init__(self) -> None:
        self._utf8 = bytearray()
        self._ends = array("Q")

    def append(self, text: str) -> None:
        self._utf8 += text.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._utf8))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index):  # an int, as openpyxl's sheet reader asks; no slices
        start = self._ends[index - 1] if index > 0 else 0
        return self._utf8[start : self._ends[index]].decode("utf-8", "surrogatepass")


SI, T, R, ROW, SHEET_DATA = (f"{{{SHEET_MAIN_NS}}}{tag}" for tag in ("si", "t", "r", "row", "sheetData"))


def read_shared_strings(source: IO[bytes]) -> SharedStrings:
    """The text of each <si>, as openpyxl reads it (its plain <t>, then the <t> of each rich-text run; phonetic
    guides left out), each entry dropped from the parse tree once read so the tree never grows."""
    strings = SharedStrings()
    root = None
    for event, element in iterparse(source, events=("start", "end")):
        if event == "start":
            root = root if root is not None else element
            continue
        if element.tag != SI:
            continue
        plain = element.find(T)
        runs = [run.findtext(T) or "" for run in element.iterfind(R)]
        text = ((plain.text or "") if plain is not None else "") + "".join(runs)
        strings.append(text.replace("x005F_", ""))  # as openpyxl reads an escaped underscore
        assert root is not None
        root.clear()  # the entries read so far: nothing else holds them
    return strings


class _LeanReader(ExcelReader):
    """openpyxl's workbook reader, with the shared strings read into SharedStrings."""

    def read_strings(self) -> None:
        part = self.package.find(SHARED_STRINGS)
        if part is not None:
            with self.archive.open(part.PartName[1:]) as src:
                # openpyxl only ever indexes it, which SharedStrings answers as a list would.
                self.shared_strings = read_shared_strings(src)  # type: ignore[assignment]


@contextlib.contextmanager
def open_sheet(raw: IO[bytes], sheet: str = "") -> Iterator[ReadOnlyWorksheet]:
    """The sheet named (or numbered from 1) by `sheet`, else the first, open for reading rows."""
    try:
        reader = _LeanReader(raw, read_only=True, data_only=True, keep_links=False)
        reader.read()
        workbook = reader.wb
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


def sheet_rows(ws: Any) -> Iterator[Cells]:  # a ReadOnlyWorksheet, whose private parts it reads (openpyxl pinned)
    """Every row from the first, blank ones included (so counting them gives the row number Excel shows).

    The sheet's dimension is not trusted to bound the rows (some programs write a wrong one): each row is
    as wide as its last cell. Read with openpyxl's own sheet parser, which gives each cell's style beside its
    value (its read-only rows of values do not): a number's format says how many decimals Excel shows.
    """
    workbook = ws.parent
    decimals = _fixed_decimals(workbook)
    with ws._get_source() as source:
        parser = WorkSheetParser(
            source,
            ws._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        expected = 1
        sheet_data = None
        # openpyxl's own loop (parser.parse) clears each row it reads but leaves it in the tree, and keeps
        # every row's attributes: 80 MB more for a million rows, let go only at the end. Here each row is
        # dropped from the tree once read.
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                sheet_data = element if element.tag == SHEET_DATA else sheet_data
                continue
            if element.tag != ROW:
                continue
            row_number, parsed = parser.parse_row(element)
            parser.row_dimensions.clear()
            if sheet_data is not None:
                sheet_data.clear()
            for _ in range(expected, row_number):
                yield Cells()  # a row the sheet leaves out: blank
            expected = row_number + 1
            yield _row(parsed, decimals)


def _row(parsed: list[dict[str, Any]], decimals: dict[int, NumberShown]) -> Cells:
    cells = Cells([""] * (parsed[-1]["column"] if parsed else 0))
    inexact = []
    for cell in parsed:
        index, value = cell["column"] - 1, cell["value"]
        shown = decimals.get(cell["style_id"]) if type(value) in (int, float) else None
        text, exact = shown.text(value) if shown else cell_text(value)
        cells[index] = text
        if not exact:
            inexact.append(index)
    if inexact:
        cells.inexact = tuple(inexact)
    return cells


# A number format that fixes how a number is shown: `0.00`, `#,##0.0`, `0%`, `0.00%`.
FIXED = re.compile(r"^(?P<thousands>#,##)?0(?:\.(?P<decimals>0+))?(?P<percent>%?)$")


@dataclass(frozen=True)
class NumberShown:
    decimals: int
    thousands: bool
    percent: bool

    def text(self, value: float) -> tuple[str, bool]:
        exact = abs(value) < EXACT_LIMIT
        value = value * 100 if self.percent else value
        return f"{value:{',' if self.thousands else ''}.{self.decimals}f}{'%' if self.percent else ''}", exact


def _fixed_decimals(workbook: Any) -> dict[int, NumberShown]:
    """The workbook's cell styles whose number format says how a number is shown, by style id: a balance
    formatted `0.00` holding 39.4 is "39.40", as Excel shows it."""
    shown = {}
    for style_id, style in enumerate(workbook._cell_styles):
        number_format = style.numFmtId
        if number_format < BUILTIN_FORMATS_MAX_SIZE:
            code = BUILTIN_FORMATS.get(number_format, "")
        else:
            custom = number_format - BUILTIN_FORMATS_MAX_SIZE
            code = workbook._number_formats[custom] if custom < len(workbook._number_formats) else ""
        found = FIXED.match(code.split(";")[0])
        if found:
            shown[style_id] = NumberShown(
                len(found["decimals"] or ""), bool(found["thousands"]), bool(found["percent"])
            )
    return shown


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
