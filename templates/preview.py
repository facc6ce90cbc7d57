"""A template rendered with given or sample values, and its size as an SMS."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from templates.renderer import CompiledTemplate, MissingVariables, compile_template
from templates.segments import analyse


@dataclass(frozen=True)
class Preview:
    rendered: str | None  # None when variables are missing: there is no message to measure
    encoding: str | None
    characters: int | None
    units: int | None
    parts: int | None
    missing: list[str]
    variables: list[str]


def template_preview(*, content: str, values: Mapping[str, str]) -> Preview:
    """Render `content` with `values`; missing variables are reported, not raised."""
    compiled = compile_template(content)
    try:
        rendered = compiled.render(values)
    except MissingVariables as exc:
        return Preview(None, None, None, None, None, exc.names, compiled.variables)
    segments = analyse(rendered)
    return Preview(
        rendered, segments.encoding, segments.characters, segments.units, segments.parts, [], compiled.variables
    )


def sample_values(compiled: CompiledTemplate) -> dict[str, str]:
    """`<name>` for each variable without a default; the others render their defaults."""
    return {name: f"<{name}>" for name in compiled.required}


def sample_preview(*, content: str) -> Preview:
    """The content rendered with sample values: `<name>` for each variable, or its default."""
    return template_preview(content=content, values=sample_values(compile_template(content)))
