"""Phone numbers to E.164 and their line type.

phonenumbers is the reference. With PHONE_PARSER = "rphonenumbers" (the default), numbers are read with
rphonenumbers, a Rust-backed port of the same library with the same functions and results, about ten times
faster, wherever the two hold the same numbering-plan data; the rest, and any text it refuses, are read by
phonenumbers. test_phone_parsers.py compares the two on a corpus of every region's numbers in odd formats.
"""

from __future__ import annotations

import functools
import importlib
import logging
from types import ModuleType
from typing import NamedTuple

import phonenumbers
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from phonenumbers import PhoneNumberType

from imports.line_types import FROM_PHONENUMBERS, LineType

log = logging.getLogger(__name__)

MAX_INPUT_CHARS = 40
REFERENCE, FAST = "phonenumbers", "rphonenumbers"
PARSERS = (FAST, REFERENCE)
UNKNOWN = PhoneNumberType.UNKNOWN
E164 = phonenumbers.PhoneNumberFormat.E164

# The regions whose numbering-plan data differs between the phonenumbers release whose data rphonenumbers
# carries (its __phonenumbers_version__) and the phonenumbers release installed, found by comparing the
# data files (phonenumbers/data/region_*.py) of the two releases. Numbers of these regions, of any region
# sharing their calling codes, and any number read with one of them as the default region, are read by
# phonenumbers. A pair of versions not listed here reads every number with phonenumbers.
_CHANGED_9_0_41_TO_9_0_43 = "AU AX BJ BW CC CN CO CR CV CX DE DK EC ES ET FI GE GH GY IN KE KW LA PG PY RO RU SH ZW"
DATA_CHANGED: dict[tuple[str, str], frozenset[str]] = {
    ("9.0.41", "9.0.43"): frozenset(_CHANGED_9_0_41_TO_9_0_43.split()),
}

# phonenumbers otherwise compiles its patterns again whenever they fall out of the re module's small cache.
phonenumbers.re_util.enable_pattern_cache()


class InvalidPhone(ValueError):
    """The text is not a valid phone number; the message says why, for a person."""


class Phone(NamedTuple):
    e164: str
    line_type: str  # a LineType value


class _Stale(Exception):
    """The fast parser's data for this number is not the reference's: read it with the reference."""


class PhoneReader:
    """Reads numbers with `fast` (a module with phonenumbers' functions) where its data is the reference's,
    else with phonenumbers; `fast=None` reads every number with phonenumbers."""

    def __init__(self, fast: ModuleType | None = None):
        self.fast = fast
        self.stale_regions: frozenset[str] = frozenset()
        self.stale_codes: frozenset[int] = frozenset()
        if fast is not None:
            pair = (fast.__phonenumbers_version__, phonenumbers.__version__)
            changed = frozenset() if pair[0] == pair[1] else DATA_CHANGED.get(pair)
            if changed is None:
                log.warning("%s carries phonenumbers %s's data, not %s's: reading with phonenumbers", FAST, *pair)
                self.fast = None
            else:
                codes = {phonenumbers.country_code_for_region(region) for region in changed}
                # Every region of a changed calling code (+7 is Russia and Kazakhstan) is read by the reference.
                self.stale_codes = frozenset(codes)
                self.stale_regions = changed | {
                    region for code in codes for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ())
                }

    def read(self, raw: str, region: str) -> Phone:
        """`07400 123456` (region GB) -> (`+447400123456`, `mobile`); raises InvalidPhone."""
        text = " ".join(raw.split())  # any Unicode space (no-break, thin, ...) reads as a plain one
        if not text:
            raise InvalidPhone("The phone number is missing.")
        if len(text) > MAX_INPUT_CHARS:
            raise InvalidPhone(f"{text[:MAX_INPUT_CHARS]!r}... is too long to be a phone number.")
        if self.fast is not None and region not in self.stale_regions:
            try:
                return self._read(self.fast, text, region, self.stale_codes)
            except (_Stale, self.fast.NumberParseException):
                pass  # read again by the reference, which says why a text is refused
        return self._read(phonenumbers, text, region, frozenset())

    def _read(self, lib: ModuleType, text: str, region: str, stale: frozenset[int]) -> Phone:
        try:
            number = _lost_plus(lib, text, region, stale) or lib.parse(text, region)
        except phonenumbers.NumberParseException:
            raise InvalidPhone(f"{text!r} is not a phone number.") from None
        if number.country_code in stale:
            raise _Stale
        # One call answers both questions: is_valid_number is number_type(...) != UNKNOWN (plus a check of the
        # region against the country code that holds by construction). Matching a number against its country's
        # patterns is a third of the work per number, so asking both would make each number cost a third more
        # (BENCHMARKS.md); test_phones_line_type.py compares the two on a corpus of every region's numbers.
        kind = lib.number_type(number)
        if kind == UNKNOWN:
            raise InvalidPhone(f"{text!r} is not a valid phone number (read with default region {region}).")
        return Phone(lib.format_number(number, E164), FROM_PHONENUMBERS[kind])

    def line_type(self, e164: str) -> str:
        """The line type of a number already stored in E.164; `unknown` for one phonenumbers finds invalid."""
        if self.fast is not None:
            try:
                number = self.fast.parse(e164, None)
                if number.country_code not in self.stale_codes:
                    return FROM_PHONENUMBERS[self.fast.number_type(number)]
            except self.fast.NumberParseException:
                pass
        try:
            number = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            return LineType.UNKNOWN.value
        return FROM_PHONENUMBERS[phonenumbers.number_type(number)]


def _lost_plus(lib: ModuleType, text: str, region: str, stale: frozenset[int]):
    """`4915112345678` in Germany is +49 151 12345678 whose "+" was lost (a spreadsheet keeps numbers as numbers,
    and numbers have no "+"), not a 13-digit German landline: digits that start with the region's own country
    code and make a valid international number are read as one."""
    if not text.isdigit() or text[0] == "0":
        return None
    if not text.startswith(str(lib.country_code_for_region(region))):
        return None
    number = lib.parse("+" + text, None)
    if number.country_code in stale:
        raise _Stale
    return number if lib.is_valid_number(number) else None


@functools.cache
def reader_for(parser: str) -> PhoneReader:
    """The reader PHONE_PARSER names: rphonenumbers (falling back to phonenumbers) or phonenumbers."""
    if parser not in PARSERS:
        raise ImproperlyConfigured(f"PHONE_PARSER is {parser!r}; use one of {', '.join(PARSERS)}.")
    if parser == REFERENCE:
        return PhoneReader()
    try:
        return PhoneReader(importlib.import_module(FAST))
    except ImportError:
        log.warning("PHONE_PARSER is %s, which is not installed: reading with phonenumbers", FAST)
        return PhoneReader()


def reader() -> PhoneReader:
    return reader_for(settings.PHONE_PARSER)


def read_phone(raw: str, region: str) -> Phone:
    """`07400 123456` (region GB) -> (`+447400123456`, `mobile`); raises InvalidPhone."""
    return reader().read(raw, region)


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
    return reader().line_type(e164)


def is_region(code: str) -> bool:
    return code in phonenumbers.SUPPORTED_REGIONS
