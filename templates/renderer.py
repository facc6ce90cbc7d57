"""`{{ variable }}` and `{{ variable|default:"text" }}` merge fields: compile once, render many.

Single `{` and `}` are ordinary text (GSM-7 has both); only `{{` and `}}` are syntax.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NoReturn

from inboxerr.exceptions import InboxerrException

OPEN, CLOSE = "{{", "}}"
# Letters, digits and underscores, not starting with a digit: what imports' normalise_key produces.
NAME = r"[^\W\d]\w*"
# Whitespace may surround the name, the `|` and the `:`; the quoted default may hold anything but its quote.
FIELD = re.compile(
    rf"""\{{\{{\s*(?P<name>{NAME})\s*
        (?:\|\s*default\s*:\s*(?:"(?P<double>[^"]*)"|'(?P<single>[^']*)')\s*)?
        \}}\}}""",
    re.VERBOSE,
)
_NAME = re.compile(NAME)
_FILTER = re.compile(r"\s*(\w*)\s*(:?)\s*(.*)", re.DOTALL)
SNIPPET_CHARS = 30


class TemplateSyntaxError(InboxerrException):
    """Malformed template text; `position` is the 0-based offset of the fault."""

    code = "invalid_template"

    def __init__(self, problem: str, *, text: str, position: int):
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        self.position, self.line, self.column = position, line, column
        super().__init__(
            f"{problem} at line {line}, column {column}.",
            details={"position": position, "line": line, "column": column},
        )


class MissingVariables(InboxerrException):
    """Variables without a value (or with an empty one) and without a default."""

    code = "missing_variables"

    def __init__(self, names: list[str]):
        self.names = sorted(set(names))
        listed = ", ".join(self.names)
        super().__init__(f"Missing variables without a default: {listed}.", details={"missing": self.names})


class CompiledTemplate:
    """Literal text and fields as a list of parts; a render fills the field slots and joins once."""

    __slots__ = ("_fields", "_parts", "required", "text", "variables")

    def __init__(self, text: str, parts: list[str], fields: list[tuple[int, str, str | None]]):
        self.text = text
        self._parts = parts  # literals, with "" in each field's slot
        self._fields = tuple(fields)  # (slot, name, default or None)
        self.variables = list(dict.fromkeys(name for _, name, _ in fields))
        self.required = list(dict.fromkeys(name for _, name, default in fields if default is None))

    def render(self, values: Mapping[str, str]) -> str:
        """The text with every field filled; MissingVariables names every field left without a value."""
        parts = self._parts.copy()
        missing = []
        for slot, name, default in self._fields:
            value = values.get(name)
            if value is None or value == "":
                if default is None:
                    missing.append(name)
                    continue
                value = default
            parts[slot] = value if type(value) is str else str(value)
        if missing:
            raise MissingVariables(missing)
        return "".join(parts)

    @property
    def literal(self) -> str:
        """The text with every field empty: the least any rendering of it can be."""
        return "".join(self._parts)

    def __repr__(self) -> str:
        return f"CompiledTemplate({self.text!r})"


def compile_template(text: str) -> CompiledTemplate:
    """Parse `text` into a CompiledTemplate; TemplateSyntaxError names the first fault's position."""
    parts: list[str] = []
    fields: list[tuple[int, str, str | None]] = []
    start = 0
    while True:
        opening = text.find(OPEN, start)
        _refuse_stray_close(text, start, len(text) if opening < 0 else opening)
        if opening < 0:
            break
        match = FIELD.match(text, opening)
        if match is None:
            _diagnose(text, opening)
        if opening > start:
            parts.append(text[start:opening])
        default = match["double"] if match["double"] is not None else match["single"]
        fields.append((len(parts), match["name"], default))
        parts.append("")
        start = match.end()
    if start < len(text):
        parts.append(text[start:])
    return CompiledTemplate(text, parts, fields)


def _refuse_stray_close(text: str, start: int, end: int) -> None:
    closing = text.find(CLOSE, start, end)
    if closing >= 0:
        raise TemplateSyntaxError('"}}" without an opening "{{"', text=text, position=closing)


def _diagnose(text: str, opening: int) -> NoReturn:
    """Say what is wrong with the field opening at `opening`, which FIELD did not match."""
    inner_start = opening + len(OPEN)
    closing = text.find(CLOSE, inner_start)
    reopened = text.find(OPEN, inner_start)
    if closing < 0 or 0 <= reopened < closing:
        shown = _snippet(text, opening, reopened if reopened >= 0 else len(text))
        raise TemplateSyntaxError(f'Unclosed merge field "{shown}"', text=text, position=opening)
    inner = text[inner_start:closing]
    if not inner.strip():
        raise TemplateSyntaxError(f'Empty merge field "{text[opening : closing + 2]}"', text=text, position=opening)
    name_part, bar, rest = inner.partition("|")
    name = name_part.strip()
    name_at = inner_start + len(name_part) - len(name_part.lstrip())
    if not name:
        raise TemplateSyntaxError("Missing variable name", text=text, position=name_at)
    if not _NAME.fullmatch(name):
        raise TemplateSyntaxError(f'Invalid variable name "{name}"', text=text, position=name_at)
    filter_match = _FILTER.match(rest)
    assert filter_match is not None, "the pattern matches any text"
    filter_name, colon, value = filter_match.groups()
    bar_at = inner_start + len(name_part)
    filter_at = bar_at + len(bar) + filter_match.start(1)
    if not rest.strip():
        raise TemplateSyntaxError('Missing filter after "|"', text=text, position=bar_at)
    if filter_name != "default":
        shown = filter_name or rest.strip()
        raise TemplateSyntaxError(
            f'Unknown filter "{shown}" (only default is supported)', text=text, position=filter_at
        )
    if not colon:
        raise TemplateSyntaxError(
            'The default filter needs a value, as in default:"friend"', text=text, position=filter_at
        )
    value_at = bar_at + len(bar) + filter_match.start(3)
    value = value.rstrip()
    if value[:1] not in ("'", '"'):
        example = value if value and '"' not in value else "friend"
        raise TemplateSyntaxError(
            f'The default value must be in quotes, as in default:"{example}"', text=text, position=value_at
        )
    end_quote = value.find(value[0], 1)
    if end_quote < 0:
        raise TemplateSyntaxError("Unterminated quoted default value", text=text, position=value_at)
    after = value[end_quote + 1 :]
    junk_at = value_at + end_quote + 1 + len(after) - len(after.lstrip())
    raise TemplateSyntaxError("Unexpected text after the default value", text=text, position=junk_at)


def _snippet(text: str, position: int, stop: int) -> str:
    """The text from `position` to the end of its line or `stop`, cut at SNIPPET_CHARS."""
    line_end = text.find("\n", position, stop)
    limit = stop if line_end < 0 else line_end
    end = min(limit, position + SNIPPET_CHARS)
    return text[position:end].rstrip() + ("…" if end < limit else "")
