"""CSV download of an import's row errors, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from rest_framework.renderers import BaseRenderer

from inboxerr.csv_stream import spreadsheet_safe


class ErrorsCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, dict) and "error" in data:  # an API error, rendered as its message
            data = [{"row": "", "column": "", "message": data["error"]["message"]}]
        elif not isinstance(data, list):  # e.g. an OPTIONS description: no row errors to write
            data = []
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["row", "column", "message"])
        for error in data:
            writer.writerow([spreadsheet_safe(error.get(key)) for key in ("row", "column", "message")])
        return out.getvalue().encode(self.charset)
