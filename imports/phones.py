"""Phone numbers to E.164 and their line type, with phonenumbers."""

from __future__ import annotations

from typing import NamedTuple

import phonenumbers
from phonenumbers import PhoneNumberType

from imports.line_types import FROM_PHONENUMBERS, LineType

MAX_INPUT_CHARS = 40


class InvalidPhone(ValueError):
    """The text is not a valid phone number; the message says why, for a person."""


class Phone(NamedTuple):
    e164: str
    line_type: str  # a LineType value


def read_phone(raw: str, region: str) -> Phone:
    """`07400 123456` (region GB) -> (`+447400123456`, `mobile`); raises InvalidPhone."""
    text = " ".join(raw.split())  # any Unicode space (no-break, thin, ...) reads as a plain one
    if not text:
        raise InvalidPhone("The phone number is missing.")
    if len(text) > MAX_INPUT_CHARS:
        raise InvalidPhone(f"{text[:MAX_INPUT_CHARS]!r}... is too long to be a phone number.")
    try:
        number = _lost_plus(text, region) or phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"{text!r} is not a phone number.") from None
    # One call answers both questions: is_valid_number is number_type(...) != UNKNOWN (plus a check of the
    # region against the country code that holds by construction). Matching a number against its country's
    # patterns is a third of the work per number, so asking both would make each number cost a third more
    # (BENCHMARKS.md); test_phones_line_type.py compares the two on a corpus of every region's numbers.
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        raise InvalidPhone(f"{text!r} is not a valid phone number (read with default region {region}).")
    return Phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), FROM_PHONENUMBERS[kind])


def _lost_plus(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    """`4915112345678` in Germany is +49 151 12345678 whose "+" was lost (a spreadsheet keeps numbers as numbers,
    and numbers have no "+"), not a 13-digit German landline: digits that start with the region's own country
    code and make a valid international number are read as one."""
    if not text.isdigit() or text[0] == "0":
        return None
    if not text.startswith(str(phonenumbers.country_code_for_region(region))):
        return None
    number = phonenumbers.parse("+" + text, None)
    return number if phonenumbers.is_valid_number(number) else None


def normalise_phone(raw: str, region: str) -> str:
    """`07400 123456` (region GB) -> `+447400123456`; raises InvalidPhone."""
    return read_phone(raw, region).e164


def phone_or_as_typed(raw: str, region: str) -> str:
    """E.164 when the text reads as a number, else the text as typed (stripped): a lookup by phone in any
    format, or by what a gateway gave as the sender (a short code, a name such as AMAZON)."""
    try:
        return normalise_phone(raw, region)
    except InvalidPhone:
        return raw.strip()


def line_type_of(e164: str) -> str:
    """The line type of a number already stored in E.164; `unknown` for one phonenumbers finds invalid."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return LineType.UNKNOWN.value
    return FROM_PHONENUMBERS[phonenumbers.number_type(number)]


def is_region(code: str) -> bool:
    return code in phonenumbers.SUPPORTED_REGIONS
