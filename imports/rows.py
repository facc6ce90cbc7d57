"""One record to one contact, or to a row error naming the row and column."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from imports.headers import is_mobile_label
from imports.layout import Layout, PhoneSource
from imports.line_types import LineType
from imports.phones import InvalidPhone, Phone, reader

MAX_NAME_CHARS = 255
MAX_VALUE_CHARS = 1000
# What joins several numbers in one cell: Google Contacts' " ::: ", a semicolon, " or ".
SEVERAL_NUMBERS = re.compile(r"\s*(?::::|;|\s+or\s+)\s*", re.IGNORECASE)
MOBILE = LineType.MOBILE.value


class ParsedContact(NamedTuple):  # a tuple: made a million times an import, it must cost little
    row_number: int
    phone: str
    name: str
    variables: dict[str, str]
    line_type: str  # a LineType value, read with the phone
    phone_column: str  # the header of the column the number was taken from


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


def numbers_in(text: str) -> Iterator[str]:
    """The numbers a cell may hold, in order: `+44 7400 123456 ::: 020 7946 0000` holds two.

    A part with a slash is tried whole first ("0171/1234567" is one German number), then split.
    """
    for part in SEVERAL_NUMBERS.split(text) if (";" in text or ":::" in text or " or " in text.lower()) else (text,):
        if not part.strip():
            continue
        yield part
        if "/" in part:
            yield from (piece for piece in part.split("/") if piece.strip())


class RowConverter:
    def __init__(self, layout: Layout, region: str):
        self.layout = layout
        self.region = region
        self.read = reader().read  # PHONE_PARSER's, chosen once
        self.sources = layout.phone_sources
        self.tried = ", ".join(layout.phone_columns)
        self.column_of = {source.index: layout.column_name(source.index) for source in layout.phone_sources}
        self.checked = {i for source in layout.phone_sources for i in (source.index, source.label_index)
                        if i is not None} | set(layout.name_indexes) | {i for i, _ in layout.variables}  # fmt: skip
        # Every cell read lies below this: a shorter (ragged) row is padded with empty cells up to it.
        self.width = max(self.checked) + 1
        # The usual file: one phone column, read without looking for several numbers or labels.
        only = self.sources[0] if len(self.sources) == 1 and self.sources[0].label_index is None else None
        self.only = only
        self.only_column = self.column_of[only.index] if only else ""
        self.name_indexes = layout.name_indexes
        self.variable_indexes = [index for index, _ in layout.variables]
        self.variable_keys = [key for _, key in layout.variables]

    def convert(self, row_number: int, cells: list[str]) -> ParsedContact | RowError:
        read = self.read_row(row_number, cells)
        if isinstance(read, RowError):
            return read
        phone, name, values, column = read
        variables = dict(zip(self.variable_keys, values, strict=True))
        return ParsedContact(row_number, phone.e164, name, variables, phone.line_type, column)

    def read_row(self, row_number: int, cells: list[str]) -> tuple[Phone, str, list[str], str] | RowError:
        """What convert makes a contact of: the phone, the name, the variables' values in layout order and the
        column the phone came from; without building the contact, for a caller that writes the values out."""
        inexact = getattr(cells, "inexact", ())  # a workbook's numbers Excel could not keep exactly
        for index in inexact:
            if index in self.checked:
                return RowError(row_number, self.layout.column_name(index), _inexact_message(cells[index]))
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))  # a short (ragged) row reads as empty cells

        only = self.only
        if only is not None and not _maybe_several(text := cells[only.index]):
            try:
                phone = self.read(text, self.region)
            except InvalidPhone as exc:
                return RowError(row_number, self.only_column, str(exc))
            column = self.only_column
        else:
            found = self._phone(cells.__getitem__)
            if isinstance(found, str):
                return RowError(row_number, self._error_column(cells.__getitem__), found)
            phone, source = found
            column = self.column_of[source.index]

        names = self.name_indexes
        if len(names) == 1:
            name = cells[names[0]].strip()
        elif len(names) == 2:
            first, last = cells[names[0]].strip(), cells[names[1]].strip()
            name = f"{first} {last}" if first and last else first or last
        else:
            name = " ".join(part for i in names if (part := cells[i].strip()))
        if len(name) > MAX_NAME_CHARS:
            column = self.layout.column_name(self.name_indexes[0])
            return RowError(row_number, column, f"The name is longer than {MAX_NAME_CHARS} characters.")

        values = [cells[i] for i in self.variable_indexes]
        if values and max(map(len, values)) > MAX_VALUE_CHARS:
            pairs = zip(self.variable_indexes, values, strict=True)
            index = next(i for i, value in pairs if len(value) > MAX_VALUE_CHARS)
            column = self.layout.column_name(index)
            return RowError(row_number, column, f"The value is longer than {MAX_VALUE_CHARS} characters.")
        return phone, name, values, column

    def _phone(self, cell) -> tuple[Phone, PhoneSource] | str:
        """The first valid mobile number among the phone columns (those named or labelled mobile first), else
        the first valid number; or, when there is none, why, for a person."""
        if self.only is not None:
            candidates = [(self.only, cell(self.only.index))]
        else:
            hinted: list[tuple[PhoneSource, str]] = []
            others: list[tuple[PhoneSource, str]] = []
            for source in self.sources:
                text = cell(source.index)
                if text.strip():
                    label = source.label_index
                    mobile = source.mobile or (label is not None and is_mobile_label(cell(label)))
                    (hinted if mobile else others).append((source, text))
            candidates = hinted + others
            if not candidates:
                return f"The phone number is missing (looked in {self.tried})."
        first_valid: tuple[Phone, PhoneSource] | None = None
        first_problem = ""
        for source, text in candidates:
            for number in numbers_in(text) if text.strip() else (text,):
                try:
                    phone = self.read(number, self.region)
                except InvalidPhone as exc:
                    first_problem = first_problem or str(exc)
                    continue
                if phone.line_type == MOBILE:
                    return phone, source
                first_valid = first_valid or (phone, source)
        if first_valid is not None:
            return first_valid
        if len(self.sources) > 1:
            return f"No valid phone number in {self.tried}: {first_problem}"
        return first_problem

    def _error_column(self, cell) -> str:
        """The column a row error names: the first phone column with text in it, else the first tried."""
        source = next((s for s in self.sources if cell(s.index).strip()), self.sources[0])
        return self.column_of[source.index]


def _maybe_several(text: str) -> bool:
    """Whether numbers_in may find more than one number in the cell (most cells hold one)."""
    return ";" in text or ":" in text or "/" in text or (("r" in text or "R" in text) and " or " in text.lower())


def _inexact_message(shown: str) -> str:
    return (
        f"Excel holds {shown} as a number, which keeps only 15 significant digits, so its last digits may be "
        "wrong; format the column as Text in Excel and enter the value again."
    )
