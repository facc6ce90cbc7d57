"""One record to one contact: phones in E.164, names, variables, row errors."""

import pytest

from imports.layout import Layout, PhoneSource
from imports.phones import InvalidPhone, normalise_phone
from imports.rows import MAX_VALUE_CHARS, ParsedContact, RowConverter, RowError


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("07400 123456", "GB", "+447400123456"),
        ("+44 (0)7400 123456", "GB", "+447400123456"),
        ("0044 7400-123456", "GB", "+447400123456"),
        ("447400123456", "GB", "+447400123456"),
        ("(201) 555-0123", "US", "+12015550123"),
        ("+1 201 555 0123", "GB", "+12015550123"),
        ("01512 3456789", "DE", "+4915123456789"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("\u00a0+44\u20097400\u00a0123456 ", "GB", "+447400123456"),
        ("+447400123456 ext. 12", "GB", "+447400123456"),
    ],
)
def test_numbers_in_every_common_format_become_e164(raw, region, e164):
    assert normalise_phone(raw, region) == e164


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "missing"),
        ("   ", "missing"),
        ("12345", "not a valid phone number"),
        ("+44 7400 12345A", "not a valid phone number"),
        ("hello", "not a phone number"),
        ("+999 123 456 789", "not"),
        ("1" * 60, "too long"),
    ],
)
def test_invalid_numbers_raise_a_readable_error(raw, message):
    with pytest.raises(InvalidPhone, match=message):
        normalise_phone(raw, "GB")


LAYOUT = Layout(
    header=["First", "Phone", "Last", "Order No."],
    header_row=1,
    phone_sources=(PhoneSource(1, mobile=False),),
    name_indexes=(0, 2),
    variables=[(0, "first"), (2, "last"), (3, "order_no")],
)


def test_a_valid_row_becomes_a_contact():
    result = RowConverter(LAYOUT, "GB").convert(2, ["Ann", "07400 123456", "Lee", "A-1"])

    assert result == ParsedContact(
        2, "+447400123456", "Ann Lee", {"first": "Ann", "last": "Lee", "order_no": "A-1"}, "mobile", "Phone"
    )


def test_a_short_ragged_row_reads_missing_cells_as_empty_strings():
    result = RowConverter(LAYOUT, "GB").convert(2, ["Ann", "07400 123456"])

    assert result.name == "Ann"
    assert result.variables == {"first": "Ann", "last": "", "order_no": ""}


def test_a_long_ragged_row_ignores_the_extra_cells():
    result = RowConverter(LAYOUT, "GB").convert(2, ["Ann", "07400 123456", "Lee", "A-1", "extra", "more"])

    assert result.variables == {"first": "Ann", "last": "Lee", "order_no": "A-1"}


def test_an_invalid_phone_is_a_row_error_naming_row_and_column():
    result = RowConverter(LAYOUT, "GB").convert(7, ["Ann", "12345", "Lee", "A-1"])

    assert result == RowError(7, "Phone", "'12345' is not a valid phone number (read with default region GB).")


def test_a_value_too_long_is_a_row_error_naming_its_column():
    result = RowConverter(LAYOUT, "GB").convert(9, ["Ann", "07400 123456", "Lee", "x" * (MAX_VALUE_CHARS + 1)])

    assert isinstance(result, RowError)
    assert (result.row, result.column) == (9, "Order No.")
