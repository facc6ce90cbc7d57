from __future__ import annotations

from inboxerr.exceptions import InboxerrException


class ImportFileError(InboxerrException):
    """The file as a whole cannot be imported; the job fails with this message."""

    code = "import_failed"
