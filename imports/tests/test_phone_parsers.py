"""rphonenumbers against phonenumbers, the reference, on a corpus of over 100,000 numbers: every region's example
numbers of every type and their near misses, written as people type them (national, international, with an
international dialling prefix, with every odd format the bad-input corpus sends), read with the default
regions imports use. Any difference fails the test: it is what PHONE_PARSER=rphonenumbers may be trusted on."""

from __future__ import annotations

import phonenumbers
import pytest
import rphonenumbers

from imports.line_types import FROM_PHONENUMBERS
from imports.phones import InvalidPhone, PhoneReader, reader_for
from tests.bad_input.test_phone_formats import NORMALISED, REFUSED

# What the bench file holds and what deployments default to, then a few with national prefixes of their own.
DEFAULT_REGIONS = ("GB", "US", "FR", "BR", "NG", "MX")
ODD_FORMATS = [
    lambda n: n.replace(" ", "\u2011"),  # non-breaking hyphens
    lambda n: n.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"}),  # fullwidth digits
    lambda n: n.translate({ord(d): 0x660 + int(d) for d in "0123456789"}),  # Arabic-Indic digits
    lambda n: f"\u00a0{n.replace(' ', chr(0x2009))}\u00a0",  # no-break and thin spaces
    lambda n: f"\u202b{n}\u202c",  # right-to-left embedding marks
    lambda n: f"({n[:5]}) {n[5:]}",
    lambda n: n.replace(" ", "."),
    lambda n: n.replace(" ", "-"),
    lambda n: f"{n} ext. 12",
    lambda n: f"{n} x12",
    lambda n: f"{n};ext=12",
    lambda n: f"{n[:-1]}O",  # a letter O for a zero
    lambda n: f"{n}a",
]


def examples() -> list[phonenumbers.PhoneNumber]:
    numbers = [
        number
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for kind in FROM_PHONENUMBERS
        if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    numbers += [
        number
        for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
        if (number := phonenumbers.example_number_for_non_geo_entity(code)) is not None
    ]
    return numbers


def corpus() -> list[tuple[str, str]]:
    """(text, default region) pairs, each once."""
    pairs: set[tuple[str, str]] = set()
    for index, example in enumerate(examples()):
        code, nsn = example.country_code, phonenumbers.national_significant_number(example)
        region = phonenumbers.region_code_for_number(example) or "GB"
        near = {nsn, nsn[:-1], nsn + "0", nsn + "00"}
        near |= {nsn[:-1] + digit for digit in "0123456789"} | {digit + nsn[1:] for digit in "0123456789"}
        for digits in sorted(near):
            if not digits:
                continue
            pairs.add((f"+{code}{digits}", DEFAULT_REGIONS[index % len(DEFAULT_REGIONS)]))
            pairs.add((f"00{code} {digits}", "GB"))
            pairs.add((f"011 {code} {digits}", "US"))
            pairs.add((f"{code}{digits}", region))  # the "+" lost in a spreadsheet
            if region != "001":
                pairs.add((f"0{digits}", region))
        formatted = [
            phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
            phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL),
        ]
        for text in formatted:
            pairs.add((text, region))
            pairs.update((odd(text), region) for odd in ODD_FORMATS)
    for text, _ in NORMALISED + REFUSED:
        pairs.update((text, region) for region in DEFAULT_REGIONS)
    # As the bench's file has them (bench/gen_contacts.py): UK mobiles three ways, US numbers, short numbers.
    for n in range(0, 40_000, 7):
        pairs.add((f"07{400 + n % 600:03d} {n:06d}", "GB"))
        pairs.add((f"+44 7{400 + n % 600:03d} {n:06d}", "GB"))
        pairs.add((f"0044 7{400 + n % 600:03d}-{n:06d}", "GB"))
        pairs.add((f"+1 ({200 + n % 800:03d}) {200 + n // 800 % 800:03d}-{n % 10_000:04d}", "GB"))
        pairs.add((f"{100 + n}", "GB"))
    return sorted(pairs)


def outcome(read, text: str, region: str) -> object:
    try:
        return read(text, region)
    except InvalidPhone as exc:
        return str(exc)


def library_outcome(lib, text: str, region: str) -> tuple:
    try:
        number = lib.parse(text, region)
    except lib.NumberParseException as exc:
        return ("refused", exc.error_type)
    return (
        number.country_code,
        number.national_number,
        number.extension,
        number.italian_leading_zero,
        number.number_of_leading_zeros,
        lib.number_type(number),
        lib.is_valid_number(number),
        lib.format_number(number, lib.PhoneNumberFormat.E164),
        lib.region_code_for_number(number),
    )


@pytest.fixture(scope="module")
def numbers() -> list[tuple[str, str]]:
    return corpus()


def test_the_corpus_has_every_odd_format_and_over_100k_numbers(numbers):
    assert len(numbers) > 100_000
    texts = {text for text, _ in numbers}
    assert {text for text, _ in NORMALISED + REFUSED} <= texts


def test_the_reader_gives_phonenumbers_answer_for_every_number(numbers):
    """What imports store: the E.164 form and line type, or the reason a text is refused, word for word."""
    fast, reference = PhoneReader(rphonenumbers), PhoneReader()
    assert fast.fast is rphonenumbers, "the installed pair of versions is not one whose data was compared"
    differ = [
        (text, region, ours, theirs)
        for text, region in numbers
        if (ours := outcome(fast.read, text, region)) != (theirs := outcome(reference.read, text, region))
    ]

    assert differ == []


def test_rphonenumbers_parses_as_phonenumbers_wherever_it_is_used(numbers):
    """The libraries themselves, function by function, on every number the reader gives the fast one."""
    fast = PhoneReader(rphonenumbers)
    used = differ = 0
    examples_of_differences = []
    for text, region in numbers:
        if region in fast.stale_regions:
            continue
        ours = library_outcome(rphonenumbers, text, region)
        if ours[0] in fast.stale_codes:
            continue
        used += 1
        theirs = library_outcome(phonenumbers, text, region)
        if ours != theirs:
            differ += 1
            examples_of_differences.append((text, region, ours, theirs))

    assert used > 80_000  # most of the corpus goes through the fast parser
    assert (differ, examples_of_differences[:20]) == (0, [])


def test_the_setting_falls_back_to_phonenumbers(settings):
    assert reader_for("phonenumbers").fast is None
    assert reader_for("rphonenumbers").fast is rphonenumbers


def test_a_pair_of_versions_whose_data_was_not_compared_reads_with_phonenumbers(monkeypatch):
    monkeypatch.setattr(rphonenumbers, "__phonenumbers_version__", "0.0.1")

    assert PhoneReader(rphonenumbers).fast is None
