"""One CSV record to one contact, or to a row error naming the row and column."""

from __future__ import annotations

from dataclasses import dataclass

from imports.csvfile import Layout
from imports.phones import InvalidPhone, read_phone

MAX_NAME_CHARS = 255
MAX_VALUE_CHARS = 1000


@dataclass(frozen=True, slots=True)
class ParsedContact:
    row_number: int
    phone: str
    name: str
    variables: dict[str, str]
    line_type: str  # a LineType value, read with the phone


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


class RowConverter:
    def __init__(self, layout: Layout, region: str):
        self.layout = layout
        self.region = region
        self.phone_column = layout.header[layout.phone_index]

    def convert(self, row_number: int, cells: list[str]) -> ParsedContact | RowError:
        layout = self.layout
        width = len(cells)

        def cell(index: int) -> str:
            return cells[index] if index < width else ""  # a short (ragged) row reads as empty cells

        try:
            phone, line_type = read_phone(cell(layout.phone_index), self.region)
        except InvalidPhone as exc:
            return RowError(row_number, self.phone_column, str(exc))

        name = " ".join(part for i in layout.name_indexes if (part := cell(i).strip()))
        if len(name) > MAX_NAME_CHARS:
            column = layout.header[layout.name_indexes[0]]
            return RowError(row_number, column, f"The name is longer than {MAX_NAME_CHARS} characters.")

        variables = {}
        for index, key in layout.variables:
            value = cell(index)
            if len(value) > MAX_VALUE_CHARS:
                column = layout.column_name(index)
                return RowError(row_number, column, f"The value is longer than {MAX_VALUE_CHARS} characters.")
            variables[key] = value
        return ParsedContact(row_number, phone, name, variables, line_type)
