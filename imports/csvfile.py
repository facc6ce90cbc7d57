"""Reading an uploaded CSV: encoding, delimiter, header, columns, records.

Pure functions over a file on disk; nothing here touches the database. Every
pass reads the file in chunks, so memory stays flat whatever the file's size.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from inboxerr.exceptions import InboxerrException

CHUNK_BYTES = 1 << 20
SAMPLE_CHARS = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 100
# csv's own per-field limit (128 KiB) bounds memory on a runaway quoted field.
MAX_FIELD_CHARS = csv.field_size_limit()

# Leading bytes of formats people rename to .csv by mistake.
BINARY_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive (an .xlsx workbook is one: save it as CSV first)",
    b"\x1f\x8b": "a gzip archive",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Office document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}

# Header names, compared with everything but letters and digits removed, best first.
PHONE_NAMES = (
    "phone",
    "phonenumber",
    "mobile",
    "mobilenumber",
    "mobilephone",
    "msisdn",
    "cell",
    "cellphone",
    "cellnumber",
    "number",
    "tel",
    "telephone",
    "telephonenumber",
    "whatsapp",
    "whatsappnumber",
    "phoneno",
    "mobileno",
    "contactnumber",
)
FULL_NAME_NAMES = ("name", "fullname", "contactname", "customername", "displayname")
FIRST_NAME_NAMES = ("firstname", "givenname", "forename", "first")
LAST_NAME_NAMES = ("lastname", "surname", "familyname", "last")
# Merge fields every message has; no import column may take these keys.
RESERVED_KEYS = frozenset({"phone", "name"})


class ImportFileError(InboxerrException):
    """The file as a whole cannot be imported; the job fails with this message."""

    code = "import_failed"


@dataclass(frozen=True)
class Layout:
    """How to read one file: what the sniffing found and what each column means."""

    encoding: str
    delimiter: str
    header: list[str]
    header_row: int  # the header's row number as a spreadsheet shows it
    phone_index: int
    name_indexes: tuple[int, ...]  # one full-name column, or first and last
    variables: list[tuple[int, str]] = field(default_factory=list)  # (column index, key)

    def column_name(self, index: int) -> str:
        return self.header[index] if index < len(self.header) else f"column {index + 1}"

    def as_mapping(self) -> dict:
        return {
            "phone": self.header[self.phone_index],
            "name": [self.header[i] for i in self.name_indexes],
            "variables": {self.header[i]: key for i, key in self.variables},
        }


def normalise_key(header: str) -> str:
    """`Order No.` -> `order_no`, `Prénom` -> `prenom`, `Größe` -> `grosse`, `Имя` -> `имя`.

    Lower case, accents folded, every run of other characters one underscore.
    Letters without an ASCII form stay as they are, so no alphabet loses its names.
    """
    decomposed = unicodedata.normalize("NFKD", header.casefold())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", "_", folded).strip("_")


def _squash(header: str) -> str:
    return normalise_key(header).replace("_", "")


def detect_encoding(path: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else cp1252 if the whole file decodes cleanly.

    A file that is UTF-8 up to a bad byte is refused rather than read as cp1252.
    """
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise ImportFileError("The file is empty.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for signature, what in BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise ImportFileError(f"This is not a CSV file: it looks like {what}.")

    utf8 = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    fault = _utf8_fault(path)
    if fault is None:
        return utf8
    if fault.after_utf8_text:
        # Valid multi-byte UTF-8 before the fault: a damaged UTF-8 file, which Windows-1252 would turn into mojibake.
        raise ImportFileError(
            f"The file is UTF-8 but line {fault.line} has a byte that is not "
            f"(0x{fault.value:02X} at offset {fault.offset}); save it as CSV UTF-8 and upload it again."
        )
    if _decodes(path, "cp1252"):
        return "cp1252"
    raise ImportFileError("The file is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8 and upload it again.")


@dataclass(frozen=True)
class _Utf8Fault:
    offset: int  # of the first byte that is not UTF-8, from the start of the file
    value: int
    line: int
    after_utf8_text: bool  # whether non-ASCII UTF-8 came before it


def _utf8_fault(path: str) -> _Utf8Fault | None:
    """Where the file stops being UTF-8, or None if it is UTF-8 throughout (a BOM is UTF-8 too)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    start, lines, non_ascii = 0, 1, False
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK_BYTES)
            _refuse_nul(chunk)
            pending = decoder.getstate()[0]  # a sequence split across chunks, decoded with this one
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                data = pending + chunk
                before = data[: exc.start]
                return _Utf8Fault(
                    offset=start - len(pending) + exc.start,
                    value=data[exc.start],
                    line=lines + before.count(b"\n") - pending.count(b"\n"),
                    after_utf8_text=non_ascii or not before.isascii(),
                )
            if not chunk:
                return None
            start += len(chunk)
            lines += chunk.count(b"\n")
            non_ascii = non_ascii or not text.isascii()


def _refuse_nul(chunk: bytes) -> None:
    if b"\x00" in chunk:
        raise ImportFileError("This is not a CSV file: it contains binary data (NUL bytes).")


def _decodes(path: str, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            _refuse_nul(chunk)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def sniff_delimiter(sample: str) -> str:
    """The candidate that splits the sample's rows into the most, and most consistent, columns."""
    lines = [line for line in sample.splitlines()[:-1] or sample.splitlines() if line.strip()][:50]
    if not lines:
        return ","
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        header_width = widths[0]
        if header_width < 2:
            continue
        consistency = sum(1 for w in widths if w == header_width) / len(widths)
        score = (consistency, header_width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def open_text(path: str, encoding: str) -> io.TextIOWrapper:
    return open(path, encoding=encoding, newline="")


def read_layout(
    path: str,
    *,
    delimiter: str = "",
    phone_column: str = "",
    name_column: str = "",
) -> Layout:
    """Sniff the encoding and delimiter, read the header and decide what each column means."""
    encoding = detect_encoding(path)
    with open_text(path, encoding) as f:
        sample = f.read(SAMPLE_CHARS)
    delimiter = delimiter or sniff_delimiter(sample)

    with open_text(path, encoding) as f:
        header, row_number = _read_header(csv.reader(f, delimiter=delimiter))
    if len(header) > MAX_COLUMNS:
        raise ImportFileError(f"The file has {len(header)} columns; at most {MAX_COLUMNS} are supported.")

    phone_index = _find_phone(header, phone_column)
    name_indexes = _find_name(header, name_column, phone_index)
    return Layout(
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        header_row=row_number,
        phone_index=phone_index,
        name_indexes=name_indexes,
        variables=_variable_keys(header, phone_index, name_indexes),
    )


def _read_header(reader: Iterator[list[str]]) -> tuple[list[str], int]:
    """The first row with any text, stripped, and its row number."""
    row_number = 0
    try:
        for row in reader:
            row_number += 1
            if any(cell.strip() for cell in row):
                return [cell.strip() for cell in row], row_number
    except csv.Error as exc:
        raise _unreadable(row_number + 1, exc) from exc
    raise ImportFileError("The file has no header row: it is blank.")


def _unreadable(row_number: int, exc: csv.Error) -> ImportFileError:
    if "field larger than field limit" in str(exc):
        return ImportFileError(
            f"Row {row_number}: the CSV cannot be read: a field is longer than {MAX_FIELD_CHARS:,} characters "
            "(is a quote left open?)."
        )
    return ImportFileError(f"Row {row_number}: the CSV cannot be read ({exc}).")


def _match(header: list[str], wanted: str) -> int | None:
    """The column a user named: exactly, else ignoring case, spaces and punctuation."""
    if wanted in header:
        return header.index(wanted)
    squashed = [_squash(h) for h in header]
    return squashed.index(_squash(wanted)) if _squash(wanted) in squashed else None


def _find_phone(header: list[str], phone_column: str) -> int:
    if phone_column:
        index = _match(header, phone_column)
        if index is None:
            raise ImportFileError(f"The phone column {phone_column!r} is not in the header: {_listing(header)}.")
        return index
    squashed = [_squash(h) for h in header]
    for name in PHONE_NAMES:
        if name in squashed:
            return squashed.index(name)
    if any(_looks_like_phone(cell) for cell in header):
        raise ImportFileError("The file has no header row: its first line looks like data. Add a header row.")
    raise ImportFileError(
        f"No phone column found in the header ({_listing(header)}). "
        "Name it phone, mobile or msisdn, or say which column it is with phone_column."
    )


def _find_name(header: list[str], name_column: str, phone_index: int) -> tuple[int, ...]:
    if name_column:
        index = _match(header, name_column)
        if index is None:
            raise ImportFileError(f"The name column {name_column!r} is not in the header: {_listing(header)}.")
        return (index,)
    squashed = [_squash(h) if i != phone_index else "" for i, h in enumerate(header)]

    def first_of(names: tuple[str, ...]) -> int | None:
        return next((squashed.index(n) for n in names if n in squashed), None)

    full = first_of(FULL_NAME_NAMES)
    if full is not None:
        return (full,)
    first, last = first_of(FIRST_NAME_NAMES), first_of(LAST_NAME_NAMES)
    return tuple(i for i in (first, last) if i is not None)


def _variable_keys(header: list[str], phone_index: int, name_indexes: tuple[int, ...]) -> list[tuple[int, str]]:
    """Every column but phone and a single full-name column, by unique normalised key.

    An empty key becomes `column_N` (N its 1-based position); a key taken by an
    earlier column or reserved (phone, name) gets `_2`, `_3`, ... in column order.
    """
    skip = {phone_index} | (set(name_indexes) if len(name_indexes) == 1 else set())
    taken = set(RESERVED_KEYS)
    keys = []
    for index, name in enumerate(header):
        if index in skip:
            continue
        base = normalise_key(name) or f"column_{index + 1}"
        key, n = base, 2
        while key in taken:
            key, n = f"{base}_{n}", n + 1
        taken.add(key)
        keys.append((index, key))
    return keys


def _looks_like_phone(cell: str) -> bool:
    digits = sum(ch.isdigit() for ch in cell)
    return digits >= 7 and digits >= len(cell.strip()) * 0.6


def _listing(header: list[str]) -> str:
    shown = ", ".join(repr(h) for h in header[:20])
    return shown + (f" and {len(header) - 20} more" if len(header) > 20 else "")


def iter_records(text: io.TextIOBase, layout: Layout) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for each data row after the header; blank rows are skipped.

    Row numbers count records as a spreadsheet shows them: a quoted field
    spanning several lines is one row, and blank lines count.
    """
    reader = csv.reader(text, delimiter=layout.delimiter)
    row_number = 0
    try:
        for row in reader:
            row_number += 1
            if row_number > layout.header_row and any(row):
                yield row_number, row
    except csv.Error as exc:
        raise _unreadable(row_number + 1, exc) from exc
