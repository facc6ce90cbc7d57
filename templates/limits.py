"""How long a message may be: SMS_MAX_PARTS parts, checked wherever a text is written or rendered.

A template or a campaign's own text is refused when even its literal text (every merge field empty)
is over the limit; one that only long values push over it is accepted, and those messages are refused
one by one: a send or batch item with a 400, a campaign's recipient skipped at fan-out.
"""

from __future__ import annotations

from django.conf import settings

from inboxerr.exceptions import InboxerrException
from templates.renderer import CompiledTemplate
from templates.segments import analyse


def max_parts() -> int:
    return int(settings.SMS_MAX_PARTS)


class TooManyParts(InboxerrException):
    code = "too_many_parts"

    def __init__(self, field: str, parts: int, *, even_empty: bool = False):
        limit = max_parts()
        how = "with every merge field empty, it is already" if even_empty else "it would be sent in"
        super().__init__(
            f"{field} is too long: {how} {parts} SMS parts; at most {limit} are allowed.",
            details={"field": field, "parts": parts, "max_parts": limit},
        )


def check_literal_text(compiled: CompiledTemplate, *, field: str) -> None:
    """Refuse a text whose literal part alone (every merge field empty) is over SMS_MAX_PARTS."""
    parts = analyse(compiled.literal).parts
    if parts > max_parts():
        raise TooManyParts(field, parts, even_empty=True)


def within_limit(parts: int) -> bool:
    return parts <= max_parts()
