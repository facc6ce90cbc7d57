"""The API's JSON parser: DRF's, refusing with a 400 what would otherwise crash the view or the database."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """Refuses nesting too deep to parse, unpaired surrogates, and NUL in object keys (400).

    Python's json raises RecursionError (a 500) on deep nesting; a `\\ud83d` escape without its
    pair decodes to a string that cannot be encoded as UTF-8; and PostgreSQL stores no NUL, while
    DictField checks no keys (the variables field does, for form bodies too: inboxerr/fields.py).
    NUL in a value is left to the field, which names itself.
    (The body's size is checked before parsing, against DATA_UPLOAD_MAX_MEMORY_SIZE: 413.)
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        _refuse_unstorable_text(data)
        return data


def _refuse_unstorable_text(data) -> None:
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            for key in value:
                if "\x00" in key:
                    raise ParseError(f"JSON parse error - the key {key!r} holds a NUL character.")
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                shown = value[max(exc.start - 10, 0) : exc.start].encode("utf-8", "replace").decode()
                raise ParseError(
                    f"JSON parse error - unpaired UTF-16 surrogate {value[exc.start]!a} after {shown!r}."
                ) from None
