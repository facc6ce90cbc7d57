"""One record to one contact, or to a row error naming the row and column."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from imports.headers import is_mobile_label
from imports.layout import Layout, PhoneSource
from imports.line_types import LineType
from imports.phones import InvalidPhone, Phone, read_phone

MAX_NAME_CHARS = 255
MAX_VALUE_CHARS = 1000
# What joins several numbers in one cell: Google Contacts' " ::: ", a semicolon, " or ".
SEVERAL_NUMBERS = re.compile(r"\s*(?::::|;|\s+or\s+)\s*", re.IGNORECASE)
MOBILE = LineType.MOBILE.value


@dataclass(frozen=True, slots=True)
class ParsedContact:
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
        self.sources = layout.phone_sources
        self.tried = ", ".join(layout.phone_columns)
        self.column_of = {source.index: layout.column_name(source.index) for source in layout.phone_sources}
        self.checked = {i for source in layout.phone_sources for i in (source.index, source.label_index)
                        if i is not None} | set(layout.name_indexes) | {i for i, _ in layout.variables}  # fmt: skip

    def convert(self, row_number: int, cells: list[str]) -> ParsedContact | RowError:
        layout = self.layout
        width = len(cells)

        def cell(index: int) -> str:
            return cells[index] if index < width else ""  # a short (ragged) row reads as empty cells

        inexact = getattr(cells, "inexact", ())  # a workbook's numbers Excel could not keep exactly
        for index in inexact:
            if index in self.checked:
                return RowError(row_number, layout.column_name(index), _inexact_message(cells[index]))

        found = self._phone(cell)
        if isinstance(found, str):
            return RowError(row_number, self._error_column(cell), found)
        phone, source = found

        name = " ".join(part for i in layout.name_indexes if (part := cell(i).strip()))
        if len(name) > MAX_NAME_CHARS:
            column = layout.column_name(layout.name_indexes[0])
            return RowError(row_number, column, f"The name is longer than {MAX_NAME_CHARS} characters.")

        variables = {}
        for index, key in layout.variables:
            value = cell(index)
            if len(value) > MAX_VALUE_CHARS:
                column = layout.column_name(index)
                return RowError(row_number, column, f"The value is longer than {MAX_VALUE_CHARS} characters.")
            variables[key] = value
        return ParsedContact(row_number, phone.e164, name, variables, phone.line_type, self.column_of[source.index])

    def _phone(self, cell) -> tuple[Phone, PhoneSource] | str:
        """The first valid mobile number among the phone columns (those named or labelled mobile first), else
        the first valid number; or, when there is none, why, for a person."""
        if len(self.sources) == 1 and self.sources[0].label_index is None:
            source = self.sources[0]
            candidates = [(source, cell(source.index))]  # the usual file: one phone column
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
                    phone = read_phone(number, self.region)
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


def _inexact_message(shown: str) -> str:
    return (
        f"Excel holds {shown} as a number, which keeps only 15 significant digits, so its last digits may be "
        "wrong; format the column as Text in Excel and enter the value again."
    )
