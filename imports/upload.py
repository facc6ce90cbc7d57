"""Streaming a contact file upload (.csv or .xlsx) to disk, hashing and measuring it on the way.

The upload never sits in memory: each 64 KiB chunk Django's multipart parser
hands over goes straight to a temp file under IMPORT_TMP_DIR and into a SHA-256.
Type and size are checked while streaming (the name and type browsers send,
then the first bytes: text for a CSV, a zip for a workbook, and once it is all
in, a workbook inside the zip); a refused or broken upload leaves no file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopFutureHandlers, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

from inboxerr.exceptions import InboxerrException, PayloadTooLarge, UnsupportedMediaType

FILE_FIELD = "file"
# Room for the multipart boundaries and the option fields around the file.
MULTIPART_OVERHEAD = 64 * 1024
# The types browsers and tools send a .csv as: a Windows browser with Excel installed says application/vnd.ms-excel.
CSV_TYPES = frozenset(
    {"text/csv", "text/plain", "application/vnd.ms-excel", "application/csv", "text/x-csv", "application/octet-stream"}
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_TYPES = frozenset({XLSX_TYPE, "application/octet-stream"})
ACCEPTED = {".csv": ("csv", CSV_TYPES), ".xlsx": ("xlsx", XLSX_TYPES)}
ZIP_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0"  # old .xls files, and .xlsx files saved with a password
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Leading bytes of files that are not text, whatever they are named.
NOT_TEXT = (ZIP_SIGNATURE, OLE_SIGNATURE, b"\x1f\x8b", b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")
UPLOAD_PREFIX = "upload-"
ASK = "Upload a .csv or .xlsx file"


def format_of(file_name: str) -> str:
    """csv or xlsx by the name's extension; "" for any other name."""
    extension = os.path.splitext(file_name.lower())[1]
    return ACCEPTED[extension][0] if extension in ACCEPTED else ""


@dataclass
class StreamedUpload:
    """A file the handler wrote to disk; request.FILES holds this in place of an UploadedFile."""

    path: str
    name: str
    size: int
    sha256: str
    content_type: str
    file_format: str = "csv"  # csv or xlsx

    def close(self) -> None:
        """Django closes every uploaded file after the response; this one is already closed."""

    def as_fields(self) -> dict[str, str | int]:
        """What an import job and a preview record of the file."""
        return {"original_filename": self.name, "size_bytes": self.size, "sha256": self.sha256,
                "file_path": self.path, "file_format": self.file_format}  # fmt: skip


def upload_dir() -> str:
    path = str(settings.IMPORT_TMP_DIR)
    os.makedirs(path, exist_ok=True)
    return path


def stage_local_file(path: str) -> StreamedUpload:
    """Copy a file on this machine into the upload directory, hashing it: what an upload does, for commands."""
    sha256, size = hashlib.sha256(), 0
    file_format = format_of(path) or "csv"
    fd, staged = tempfile.mkstemp(prefix=UPLOAD_PREFIX, suffix=f".{file_format}", dir=upload_dir())
    try:
        with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(1 << 20):
                sha256.update(chunk)
                size += len(chunk)
                dst.write(chunk)
    except BaseException:
        os.unlink(staged)
        raise
    return StreamedUpload(
        path=staged,
        name=os.path.basename(path)[:255],
        size=size,
        sha256=sha256.hexdigest(),
        content_type="",
        file_format=file_format,
    )


class CSVUploadHandler(FileUploadHandler):
    """Stream the `file` field to a temp file; refuse what is not a .csv or .xlsx (415) and oversize (413) uploads."""

    chunk_size = 64 * 1024

    def __init__(self, request=None):
        super().__init__(request)
        self.error: InboxerrException | None = None
        self.upload: StreamedUpload | None = None
        self.max_bytes = settings.IMPORT_MAX_BYTES
        self._out = None
        self._path = ""
        self._sha256 = hashlib.sha256()
        self._size = 0
        self._claimed = False
        self.file_format = ""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > self.max_bytes + MULTIPART_OVERHEAD:
            # Declared too large: answer 413 without reading a byte of the body.
            self.error = self._too_large()
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def new_file(self, field_name, file_name, content_type, *args, **kwargs):
        super().new_file(field_name, file_name, content_type, *args, **kwargs)
        if field_name != FILE_FIELD or self._path:
            raise SkipFile()  # one file per import; other file fields are ignored
        media_type = (content_type or "").split(";")[0].strip().lower()
        self.file_format = format_of(file_name)
        if not self.file_format or media_type not in ACCEPTED[f".{self.file_format}"][1]:
            self._refuse(
                UnsupportedMediaType(
                    f"{ASK}; got {file_name!r} sent as {media_type or 'no type'}.",
                    details={"file_name": file_name, "content_type": media_type},
                )
            )
        fd, self._path = tempfile.mkstemp(prefix=UPLOAD_PREFIX, suffix=f".{self.file_format}", dir=upload_dir())
        self._out = os.fdopen(fd, "wb")
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data: bytes, start: int):
        if start == 0:
            self._check_first_block(raw_data)
        self._size += len(raw_data)
        if self._size > self.max_bytes:
            self._refuse(self._too_large())
        self._sha256.update(raw_data)
        assert self._out is not None, "new_file opened it"
        self._out.write(raw_data)
        return None  # consumed: no later handler sees the chunk

    def _check_first_block(self, block: bytes) -> None:
        """A .csv must start as text and a .xlsx as a zip; what does not is refused before more is read."""
        name = self.file_name
        if self.file_format == "xlsx":
            if block.startswith(OLE_SIGNATURE):
                self._refuse_type(
                    f"{ASK}: {name!r} is an old Excel (.xls) file or a workbook saved with a password. "
                    "Save it from Excel as an Excel Workbook (.xlsx) without a password, or as CSV UTF-8."
                )
            if not block.startswith(ZIP_SIGNATURE):
                self._refuse_type(f"{ASK}: {name!r} is not an Excel workbook (it is not a zip).")
        elif block.startswith(NOT_TEXT) or (b"\x00" in block and not block.startswith(UTF16_BOMS)):
            what = "an Excel workbook: name it .xlsx" if block.startswith(ZIP_SIGNATURE) else "not text"
            self._refuse_type(f"{ASK}: {name!r} is named .csv but is {what}.")

    def _refuse_type(self, message: str):
        self._refuse(UnsupportedMediaType(message, details={"file_name": self.file_name}))

    def file_complete(self, file_size: int):
        assert self._out is not None, "new_file opened it"
        self._out.close()
        if self.file_format == "xlsx" and not _holds_a_workbook(self._path):
            self.error = UnsupportedMediaType(
                f"{ASK}: {self.file_name!r} is a zip file but holds no Excel workbook.",
                details={"file_name": self.file_name},
            )
            self.discard()
            return None
        self.upload = StreamedUpload(
            path=self._path,
            name=os.path.basename(self.file_name or "upload.csv")[:255],
            size=self._size,
            sha256=self._sha256.hexdigest(),
            content_type=self.content_type or "",
            file_format=self.file_format,
        )
        return self.upload

    def upload_interrupted(self) -> None:
        self.discard()

    def upload_complete(self) -> None:
        if self.error:
            self.discard()

    def raise_refusal(self) -> None:
        """The 413 or 415 this upload was refused with, if it was."""
        if self.error:
            raise self.error

    def claim(self) -> StreamedUpload:
        """Hand the file over to an import job: discard() no longer deletes it."""
        assert self.upload is not None
        self._claimed = True
        return self.upload

    def discard(self) -> None:
        """Delete the temp file unless an import job claimed it. Safe to call more than once."""
        if self._out is not None and not self._out.closed:
            self._out.close()
        if self._path and not self._claimed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path)
            self._path = ""

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The file is larger than the limit of {self.max_bytes:,} bytes.", details={"max_bytes": self.max_bytes}
        )

    def _refuse(self, error: InboxerrException):
        self.error = error
        self.discard()
        # Stop reading the body: refusing a huge upload must not mean receiving all of it first.
        raise StopUpload(connection_reset=True)


def _holds_a_workbook(path: str) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


@contextlib.contextmanager
def streaming_upload(request: HttpRequest) -> Iterator[CSVUploadHandler | None]:
    """Stream a POST's file through CSVUploadHandler alone; at the end, delete it unless a job claimed it.

    Enter it before anything reads the body: session authentication's CSRF check reads
    request.POST, which would parse the upload with Django's default handlers first.
    None for a request that is not a POST.
    """
    if request.method != "POST":
        yield None
        return
    handler = CSVUploadHandler(request)
    request.upload_handlers = [handler]
    try:
        yield handler
    finally:
        handler.discard()
