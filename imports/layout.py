"""What a contact file's columns mean, and its records, whatever the file's format (CSV or .xlsx).

read_layout finds the header (below up to MAX_PREAMBLE_ROWS title lines), the columns that hold phone
numbers (imports.headers says which, in several languages), the name, the columns that become
{{ variables }}, and those left out for being empty in every row. Nothing here touches the database.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from imports.csvfile import SAMPLE_CHARS, csv_rows, detect_encoding, open_text, sniff_delimiter
from imports.errors import ImportFileError
from imports.headers import Role, google_label_of, normalise_key, role_of, squash
from imports.xlsxfile import check_workbook, declared_size, open_sheet, sheet_rows

CSV, XLSX = "csv", "xlsx"
MAX_COLUMNS = 250
# Title or blank-looking lines ("Contacts exported 2026-11-30") a header may follow.
MAX_PREAMBLE_ROWS = 5
# Merge fields every message has; no file column may take these keys.
RESERVED_KEYS = frozenset({"phone", "name"})

Record = tuple[int, list[str]]  # (row number as a spreadsheet shows it, cells)


@dataclass(frozen=True)
class PhoneSource:
    """A column that may hold a row's phone number."""

    index: int
    mobile: bool  # its header names a mobile number: tried before the others
    # Google Contacts' `Phone N - Label` beside a `Phone N - Value`: a row whose label says mobile is tried first.
    label_index: int | None = None


@dataclass(frozen=True)
class Layout:
    """How to read one file: what the sniffing found and what each column means."""

    header: list[str]
    header_row: int  # the header's row number as a spreadsheet shows it
    phone_sources: tuple[PhoneSource, ...]  # mobile-named columns first, then the others, each in file order
    name_indexes: tuple[int, ...]  # one full-name column, or first and last
    variables: list[tuple[int, str]] = field(default_factory=list)  # (column index, key)
    ignored: tuple[int, ...] = ()  # columns empty in every row: not stored
    file_format: str = CSV
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""  # the worksheet read, for a workbook
    declared_rows: int | None = None  # the last row a workbook's sheet says it has

    def column_name(self, index: int) -> str:
        """The column as a person finds it in the file: its header, or "column N" where it has none; a header
        the file repeats is told apart by its position ("Phone (column 5)")."""
        text = self.header[index] if index < len(self.header) else ""
        if not text:
            return f"column {index + 1}"
        return f"{text} (column {index + 1})" if self.header.count(text) > 1 else text

    @property
    def phone_columns(self) -> list[str]:
        return [self.column_name(source.index) for source in self.phone_sources]

    def as_mapping(self) -> dict:
        return {
            "phone": self.phone_columns,
            "name": [self.column_name(i) for i in self.name_indexes],
            "variables": {self.column_name(i): key for i, key in self.variables},
            "ignored": [self.column_name(i) for i in self.ignored],
        }


@dataclass
class Table:
    """One pass over an open file: its rows (every row from the first, as text cells) and the byte stream
    they come from, whose position says how far the pass has come."""

    rows: Iterator[list[str]]
    raw: IO[bytes]


class ContactFile:
    """A contact file held open for the passes an import makes over it: finding its layout, then reading its
    records. A workbook is loaded once for both, since loading it (its shared strings) is what costs; a CSV
    is sniffed once and reopened by each pass.

        with ContactFile(path, XLSX, sheet="Customers") as file:
            layout = layout_of(file)
            with file.table() as table: ...
    """

    def __init__(self, path: str, file_format: str = CSV, *, delimiter: str = "", sheet: str = ""):
        self.path, self.file_format, self.delimiter, self.sheet = path, file_format, delimiter, sheet
        self.encoding = ""
        self.declared_rows: int | None = None
        self.declared_columns: int | None = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> ContactFile:
        if self.file_format == XLSX:
            check_workbook(self.path)
            self._raw = self._stack.enter_context(open(self.path, "rb"))
            self._sheet = self._stack.enter_context(open_sheet(self._raw, self.sheet))
            self.sheet = self._sheet.title
            self.declared_rows, self.declared_columns = declared_size(self._sheet)
        else:
            self.encoding = detect_encoding(self.path)
            if not self.delimiter:
                with open_text(self.path, self.encoding) as f:
                    self.delimiter = sniff_delimiter(f.read(SAMPLE_CHARS))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def what(self) -> str:
        """How an error names it: "The file", or "The sheet 'Customers'"."""
        return f"The sheet {self.sheet!r}" if self.file_format == XLSX else "The file"

    @contextlib.contextmanager
    def table(self) -> Iterator[Table]:
        """A pass over its rows, from the first."""
        if self.file_format == XLSX:
            yield Table(sheet_rows(self._sheet), self._raw)
            return
        with open(self.path, "rb") as raw, io.TextIOWrapper(raw, encoding=self.encoding, newline="") as text:
            yield Table(csv_rows(text, self.delimiter), raw)


def read_layout(
    path: str,
    *,
    file_format: str = CSV,
    delimiter: str = "",
    phone_column: str = "",
    name_column: str = "",
    sheet: str = "",
    scan_rows: int | None = None,
) -> Layout:
    """layout_of a file opened for this one look."""
    with ContactFile(path, file_format, delimiter=delimiter, sheet=sheet) as file:
        return layout_of(file, phone_column=phone_column, name_column=name_column, scan_rows=scan_rows)


def layout_of(
    file: ContactFile, *, phone_column: str = "", name_column: str = "", scan_rows: int | None = None
) -> Layout:
    """Find the file's header and decide what each column means.

    Columns are looked at in every row to find those that are always empty, stopping as soon as each
    has had a value (at once, for most files); scan_rows bounds that look (a preview's quick answer).
    """
    with file.table() as table:
        rows = enumerate(table.rows, start=1)
        header, header_row, phone_sources = _find_header(rows, phone_column, file.what)
        width = min(file.declared_columns or 0, MAX_COLUMNS)
        if len(header) < width:
            # A workbook's row ends at its last cell: a header merged over the last columns stops short of them.
            header += [""] * (width - len(header))
        phone_indexes = {source.index for source in phone_sources}
        name_indexes = _find_name(header, name_column, phone_indexes)
        # A single full-name column is the name, no variable; first and last names are also variables.
        taken = phone_indexes | (set(name_indexes) if len(name_indexes) == 1 else set())
        candidates = [i for i in range(len(header)) if i not in taken]
        empty = _always_empty(rows, candidates, scan_rows)
    return Layout(
        header=header,
        header_row=header_row,
        phone_sources=phone_sources,
        name_indexes=name_indexes,
        variables=_variable_keys(header, [i for i in candidates if i not in empty]),
        ignored=tuple(i for i in candidates if i in empty),
        file_format=file.file_format,
        encoding=file.encoding,
        delimiter=file.delimiter,
        sheet=file.sheet,
        declared_rows=file.declared_rows,
    )


def first_line(file: ContactFile) -> list[str]:
    """The file's first line with text, as cells: the columns to offer when no header could be found."""
    with file.table() as table:
        line: list[str] = next((cells for cells in table.rows if any(cell.strip() for cell in cells)), [])
    return [cell.strip() for cell in line[:MAX_COLUMNS]]


def _find_header(
    rows: Iterator[tuple[int, list[str]]], phone_column: str, what: str
) -> tuple[list[str], int, tuple[PhoneSource, ...]]:
    """The first line with text that names a phone column, below at most MAX_PREAMBLE_ROWS lines of text."""
    first: list[str] | None = None
    seen = 0
    for row_number, cells in rows:
        line = [cell.strip() for cell in cells]
        if not any(line):
            continue
        if len(line) > MAX_COLUMNS:
            raise ImportFileError(f"The file has {len(line)} columns; at most {MAX_COLUMNS} are supported.")
        first = first or line
        sources = phone_sources(line, phone_column)
        if sources:
            return line, row_number, sources
        seen += 1
        if seen > MAX_PREAMBLE_ROWS:
            break
    if first is None:
        raise ImportFileError(f"{what} has no header row: it is blank.")
    if phone_column:
        raise ImportFileError(f"The phone column {phone_column!r} is not in the header: {_listing(first)}.")
    if any(_looks_like_phone(cell) for cell in first):
        raise ImportFileError(f"{what} has no header row: its first line looks like data. Add a header row.")
    raise ImportFileError(
        f"No phone column found in the header ({_listing(first)}). "
        "Name it phone, mobile or msisdn, or say which column it is with phone_column."
    )


def phone_sources(header: list[str], phone_column: str = "") -> tuple[PhoneSource, ...]:
    """The columns a row's number is looked for in, in the order they are tried; () if the line names none."""
    if phone_column:
        index = _match(header, phone_column)
        return () if index is None else (PhoneSource(index, mobile=False),)
    alone = sum(1 for cell in header if cell) == 1
    label_at = {normalise_key(cell): i for i, cell in enumerate(header) if cell}
    mobiles, others, numbers = [], [], []
    for index, cell in enumerate(header):
        if not cell:
            continue
        label = google_label_of(cell)
        role = role_of(cell, alone=alone)
        if label is not None:
            others.append(PhoneSource(index, mobile=False, label_index=label_at.get(label)))
        elif role is Role.MOBILE:
            mobiles.append(PhoneSource(index, mobile=True))
        elif role is Role.PHONE:
            others.append(PhoneSource(index, mobile=False))
        elif role is Role.NUMBER:
            numbers.append(PhoneSource(index, mobile=False))
    # A bare "Number" column counts only in a file with no better one: beside a phone column it is likely
    # an order or house number.
    return tuple(mobiles + others) or tuple(numbers)


def _find_name(header: list[str], name_column: str, phone_indexes: set[int]) -> tuple[int, ...]:
    if name_column:
        index = _match(header, name_column)
        if index is None:
            raise ImportFileError(f"The name column {name_column!r} is not in the header: {_listing(header)}.")
        return (index,)
    found: dict[Role, int] = {}
    for index, cell in enumerate(header):
        role = role_of(cell, alone=True) if index not in phone_indexes and cell else None
        if role is not None:
            found.setdefault(role, index)
    full, some = found.get(Role.FULL_NAME), found.get(Role.SOME_NAME)
    first, last = found.get(Role.FIRST_NAME), found.get(Role.LAST_NAME)
    if full is not None:
        return (full,)
    if some is not None:
        # "Name" beside a first name alone is the last name (Vorname;Name, Prénom;Nom), beside a last name
        # alone the first (Nombre;Apellidos, Nome;Cognome); otherwise the whole name.
        if first is not None and last is None:
            return (first, some)
        if last is not None and first is None:
            return (some, last)
        return (some,)
    return tuple(i for i in (first, last) if i is not None)


def _always_empty(rows: Iterator[tuple[int, list[str]]], candidates: list[int], scan_rows: int | None) -> set[int]:
    """The candidate columns without a value in any row (of the first scan_rows, when given)."""
    empty = set(candidates)
    if not empty:
        return empty
    for scanned, (_, cells) in enumerate(rows, start=1):
        width = len(cells)
        empty = {i for i in empty if i >= width or not cells[i].strip()}
        if not empty or scanned == scan_rows:
            break
    return empty


def _variable_keys(header: list[str], indexes: Iterable[int]) -> list[tuple[int, str]]:
    """A unique normalised key for each column kept as a variable.

    An empty key becomes `column_N` (N its 1-based position); a key taken by an
    earlier column or reserved (phone, name) gets `_2`, `_3`, ... in column order.
    """
    taken = set(RESERVED_KEYS)
    keys = []
    for index in indexes:
        base = normalise_key(header[index]) or f"column_{index + 1}"
        key, n = base, 2
        while key in taken:
            key, n = f"{base}_{n}", n + 1
        taken.add(key)
        keys.append((index, key))
    return keys


def _match(header: list[str], wanted: str) -> int | None:
    """The column a user named: exactly, else ignoring case, spaces and punctuation."""
    if wanted in header:
        return header.index(wanted)
    squashed = [squash(h) for h in header]
    return squashed.index(squash(wanted)) if squash(wanted) in squashed else None


def _looks_like_phone(cell: str) -> bool:
    digits = sum(ch.isdigit() for ch in cell)
    return digits >= 7 and digits >= len(cell.strip()) * 0.6


def _listing(header: list[str]) -> str:
    shown = ", ".join(repr(h) for h in header[:20])
    return shown + (f" and {len(header) - 20} more" if len(header) > 20 else "")


def iter_records(rows: Iterable[list[str]], layout: Layout) -> Iterator[Record]:
    """(row number, cells) for each data row after the header; blank rows are skipped."""
    header_row = layout.header_row
    for row_number, cells in enumerate(rows, start=1):
        if row_number > header_row and any(cells):
            yield row_number, cells
