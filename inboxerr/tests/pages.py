"""Reading admin pages in tests as a person reads them."""

from __future__ import annotations

import re
from html import unescape


def visible_text(html: str) -> str:
    """The words of `html` as shown: tags gone, entities read, every run of whitespace one space."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))
