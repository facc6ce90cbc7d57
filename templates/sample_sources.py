"""Where the template preview takes sample values from: an owner's imports, read by another app.

Templates import no other app, so the app that may read imports (campaigns) registers the source in its
AppConfig.ready. Without one, the preview offers no imports and works from values typed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SampleSource:
    # owner_id -> [(import_id, label)]: the imports that owner may take sample values from, newest first.
    choices: Callable[[int], list[tuple[int, str]]]
    # (owner_id, import_id) -> the values a message to that import's first contact is rendered with, or None
    # when the import is not one of the owner's choices (or has no contact).
    values: Callable[[int, int], dict[str, str] | None]


_source: SampleSource | None = None


def register_sample_source(source: SampleSource) -> None:
    """Set the one source; registering again (a second ready() in tests) replaces it."""
    global _source
    _source = source


def sample_choices(owner_id: int) -> list[tuple[int, str]]:
    return _source.choices(owner_id) if _source else []


def sample_values_from(owner_id: int, import_id: int) -> dict[str, str] | None:
    return _source.values(owner_id, import_id) if _source else None
