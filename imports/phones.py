"""Phone numbers to E.164, with phonenumbers."""

from __future__ import annotations

import phonenumbers

MAX_INPUT_CHARS = 40


class InvalidPhone(ValueError):
    """The text is not a valid phone number; the message says why, for a person."""


def normalise_phone(raw: str, region: str) -> str:
    """`07700 900123` (region GB) -> `+447700900123`; raises InvalidPhone."""
    text = " ".join(raw.split())  # any Unicode space (no-break, thin, ...) reads as a plain one
    if not text:
        raise InvalidPhone("The phone number is missing.")
    if len(text) > MAX_INPUT_CHARS:
        raise InvalidPhone(f"{text[:MAX_INPUT_CHARS]!r}... is too long to be a phone number.")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"{text!r} is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{text!r} is not a valid phone number (read with default region {region}).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_region(code: str) -> bool:
    return code in phonenumbers.SUPPORTED_REGIONS
