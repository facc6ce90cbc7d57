"""Reading an uploaded CSV: its encoding, its delimiter, its records as lists of text cells.

Pure functions over a file on disk; nothing here touches the database. Every
pass reads the file in chunks, so memory stays flat whatever the file's size.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from imports.errors import ImportFileError

CHUNK_BYTES = 1 << 20
SAMPLE_CHARS = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
# csv's own per-field limit (128 KiB) bounds memory on a runaway quoted field.
MAX_FIELD_CHARS = csv.field_size_limit()

# Leading bytes of formats people rename to .csv by mistake.
BINARY_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive (an .xlsx workbook is one: upload it named .xlsx)",
    b"\x1f\x8b": "a gzip archive",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Office document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}


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
    """The candidate that splits the sample's rows into the most, and most consistent, columns.

    Consistent with the width most rows have, not the first row's: a title line above the header
    ("Contacts exported 2026-11-30") is one column whatever the delimiter.
    """
    lines = [line for line in sample.splitlines()[:-1] or sample.splitlines() if line.strip()][:50]
    if not lines:
        return ","
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        usual_width, rows = Counter(widths).most_common(1)[0]
        if usual_width < 2:
            continue
        score = (rows / len(widths), usual_width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def open_text(path: str, encoding: str) -> io.TextIOWrapper:
    return open(path, encoding=encoding, newline="")


def csv_rows(text: io.TextIOBase, delimiter: str) -> Iterator[list[str]]:
    """Every record of the file, blank ones included, so that counting them gives the row number a
    spreadsheet shows; a quoted field spanning several lines is one record."""
    row_number = 0
    try:
        for row in csv.reader(text, delimiter=delimiter):
            row_number += 1
            yield row
    except csv.Error as exc:
        raise unreadable(row_number + 1, exc) from exc


def unreadable(row_number: int, exc: csv.Error) -> ImportFileError:
    if "field larger than field limit" in str(exc):
        return ImportFileError(
            f"Row {row_number}: the CSV cannot be read: a field is longer than {MAX_FIELD_CHARS:,} characters "
            "(is a quote left open?)."
        )
    return ImportFileError(f"Row {row_number}: the CSV cannot be read ({exc}).")
