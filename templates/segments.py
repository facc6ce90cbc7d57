"""How an SMS text is encoded and how many parts (segments) it is sent in.

Empty text is 0 parts: nothing can be sent, but a preview may still measure it.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM_7, UCS_2 = "GSM-7", "UCS-2"
# GSM 03.38 basic character set, without ESC (0x1B): it introduces the extension table, it is not text.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: ESC plus the character, so two septets each.
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM_ALL = GSM_BASIC | GSM_EXTENSION
# Units in one part: alone, and in a concatenated message (the rest carries the UDH).
SINGLE = {GSM_7: 160, UCS_2: 70}
MULTI = {GSM_7: 153, UCS_2: 67}


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # len(text), in code points
    units: int  # GSM-7 septets or UTF-16 code units
    parts: int


def analyse(text: str) -> Segments:
    """The encoding, length in units and number of parts of `text` as an SMS."""
    if GSM_ALL.issuperset(text):
        encoding = GSM_7
        extended = 0 if GSM_EXTENSION.isdisjoint(text) else sum(ch in GSM_EXTENSION for ch in text)
        units = len(text) + extended
    else:
        encoding = UCS_2
        # surrogatepass: a lone surrogate (JSON can carry one) is one code unit, not an error.
        units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    return Segments(encoding, len(text), units, _parts(text, encoding, units))


def _parts(text: str, encoding: str, units: int) -> int:
    if units == 0:
        return 0
    if units <= SINGLE[encoding]:
        return 1
    size = MULTI[encoding]
    if units == len(text):
        return -(-units // size)
    # A two-unit character (ESC + char, or a surrogate pair) never straddles two parts.
    wide = GSM_EXTENSION.__contains__ if encoding == GSM_7 else "\uffff".__lt__
    parts, used = 1, 0
    for ch in text:
        width = 2 if wide(ch) else 1
        if used + width > size:
            parts, used = parts + 1, 0
        used += width
    return parts


def ucs2_characters(text: str) -> list[tuple[int, str]]:
    """(position, character) of each character outside GSM-7, any one of which sends the whole text as UCS-2.

    Positions count code points, as `len` does: an emoji is one position, though two UCS-2 units.
    """
    return [(position, ch) for position, ch in enumerate(text) if ch not in GSM_ALL]
