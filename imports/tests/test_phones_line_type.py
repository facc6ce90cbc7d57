"""Each number's line type, read with its E.164 form; and validity read from the line type, as phonenumbers'
own is_valid_number reads it, on every region's numbers."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from imports.line_types import FROM_PHONENUMBERS, LineType
from imports.phones import InvalidPhone, Phone, line_type_of, read_phone


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("07400 123456", Phone("+447400123456", "mobile")),
        ("020 7946 0018", Phone("+442079460018", "fixed_line")),
        ("0800 123 4567", Phone("+448001234567", "toll_free")),
        ("0906 123 4567", Phone("+449061234567", "premium_rate")),
        ("056 1234 5678", Phone("+445612345678", "voip")),
        ("070 1234 5678", Phone("+447012345678", "personal_number")),
        ("076 0012 3456", Phone("+447600123456", "pager")),
        ("055 1234 5678", Phone("+445512345678", "uan")),
        # North America: phonenumbers cannot tell a fixed line from a mobile; counted as mobile.
        ("+1 201 234 5678", Phone("+12012345678", "mobile")),
        ("+1 800 555 0199", Phone("+18005550199", "toll_free")),
        ("+33 6 12 34 56 78", Phone("+33612345678", "mobile")),
    ],
)
def test_a_number_is_read_with_its_line_type(raw, phone):
    assert read_phone(raw, "GB") == phone


def test_an_invalid_number_is_refused_as_before():
    # 07700 900xxx is the range Ofcom keeps for drama: phonenumbers finds it invalid.
    with pytest.raises(InvalidPhone, match="not a valid phone number"):
        read_phone("07700 900123", "GB")


def test_a_stored_number_is_classified_and_one_phonenumbers_finds_invalid_is_unknown():
    assert line_type_of("+442079460018") == "fixed_line"
    assert line_type_of("+12012345678") == "mobile"
    assert line_type_of("+447700900123") == "unknown"
    assert line_type_of("+") == "unknown"


def test_every_type_phonenumbers_knows_has_a_line_type():
    types = {getattr(PhoneNumberType, name) for name in dir(PhoneNumberType) if name.isupper()}

    assert set(FROM_PHONENUMBERS) == types
    assert set(FROM_PHONENUMBERS.values()) == set(LineType.values)


def corpus() -> list[str]:
    """Every region's example number of every type, and each one's near misses: a digit changed at either
    end, one digit short, one or two too many. About 21,000 numbers, over half of them valid."""
    examples = [
        number
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for kind in FROM_PHONENUMBERS
        if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    examples += [
        number
        for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
        if (number := phonenumbers.example_number_for_non_geo_entity(code)) is not None
    ]
    numbers = set()
    for example in examples:
        nsn = phonenumbers.national_significant_number(example)
        near = {nsn, nsn[:-1], nsn + "0", nsn + "00"}
        near |= {nsn[:-1] + digit for digit in "0123456789"} | {digit + nsn[1:] for digit in "0123456789"}
        numbers |= {f"+{example.country_code}{digits}" for digits in near if digits}
    return sorted(numbers)


def test_validity_read_from_the_line_type_is_is_valid_number_on_every_regions_numbers():
    """read_phone asks number_type alone, not is_valid_number as well: the same answer, matching each number
    against its country's patterns once instead of twice."""
    numbers = corpus()
    differ = []
    valid = 0
    for text in numbers:
        number = phonenumbers.parse(text, None)
        ours = phonenumbers.number_type(number) != PhoneNumberType.UNKNOWN
        valid += ours
        if ours != phonenumbers.is_valid_number(number):
            differ.append(text)

    assert len(numbers) > 20_000
    assert valid > 10_000
    assert differ == []
