"""What the template form's live preview shows for the content being typed, before it is saved.

The text is rendered with the values a real message would have: an import's first contact, values typed in
(over the contact's), or, with neither, `<name>` standing in for each value. Its size is measured on that
rendered text, and the characters that make it UCS-2 are listed so the page can mark them.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from inboxerr.admin import as_id
from inboxerr.exceptions import InboxerrException
from templates.limits import max_parts
from templates.preview import sample_values, template_preview
from templates.renderer import compile_template
from templates.sample_sources import sample_choices, sample_values_from
from templates.segments import ucs2_characters


class InvalidSample(InboxerrException):
    """Values typed in that cannot be read, or an import the owner may not take values from."""

    code = "invalid_sample"


def preview_answer(*, content: str, owner_id: int | None, import_id: str = "", typed: str = "") -> dict[str, Any]:
    """The preview as JSON: the rendered text and its measure, or `error` saying why there is none. Either
    way `imports` lists the owner's imports to take sample values from."""
    imports = [{"id": pk, "label": label} for pk, label in sample_choices(owner_id)] if owner_id else []
    try:
        answer = _preview(content=content, owner_id=owner_id, import_id=import_id, typed=typed)
    except InboxerrException as error:
        return {"error": error.message, "code": error.code, "details": error.details, "imports": imports}
    return {**answer, "imports": imports}


def _preview(*, content: str, owner_id: int | None, import_id: str, typed: str) -> dict[str, Any]:
    # As the form saves it: browsers send a textarea's line breaks as CRLF.
    content = content.replace("\r\n", "\n")
    values: dict[str, str] = {}
    if import_id.strip():
        values = _import_values(owner_id, import_id.strip())
    typed_in = typed_values(typed)
    values.update(typed_in)
    placeholders = not import_id.strip() and not typed_in
    if placeholders:
        values = sample_values(compile_template(content))
    result = template_preview(content=content, values=values)
    return {
        **asdict(result),
        "ucs2_characters": [
            {"position": position, "character": ch} for position, ch in ucs2_characters(result.rendered or "")
        ],
        "max_parts": max_parts(),
        "values": values,
        "placeholders": placeholders,
    }


def _import_values(owner_id: int | None, import_id: str) -> dict[str, str]:
    chosen = as_id(import_id)
    values = sample_values_from(owner_id, chosen) if owner_id and chosen else None
    if values is None:
        raise InvalidSample("That import is not one of the owner's finished imports with contacts.")
    return values


def typed_values(text: str) -> dict[str, str]:
    """Values typed in: a JSON object ({"name": "Ann"}) or one name=value a line. Blank lines are skipped."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        return _json_values(text)
    values = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            raise InvalidSample(f"Line {number} of the values is not name=value.")
        values[name.strip()] = value.strip()
    return values


def _json_values(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidSample(
            f"The values are not a JSON object: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    if not isinstance(data, dict):
        raise InvalidSample("The values are not a JSON object.")
    values = {}
    for name, value in data.items():
        if isinstance(value, str):
            values[name] = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            values[name] = json.dumps(value)  # 17 as "17", as a CSV column would hold it
        else:
            raise InvalidSample(f'The value of "{name}" must be text or a number.')
    return values
