"""Phone numbers in every odd format: normalised to E.164, or refused with a message naming the value."""

from __future__ import annotations

import pytest

from messaging.models import Message
from tests.bad_input.dbstate import changed_rows

SEND = "/api/v1/messages/send"

# Default region GB (PHONE_DEFAULT_REGION) for the national formats.
NORMALISED = [
    ("07400 123456", "+447400123456"),
    ("0044 7400 123456", "+447400123456"),
    ("00447400123456", "+447400123456"),
    ("+44 (0) 7400 123456", "+447400123456"),
    ("(07400) 123-456", "+447400123456"),
    ("07400.123.456", "+447400123456"),
    ("+44\u20117400\u2011123456", "+447400123456"),  # non-breaking hyphens
    ("\uff10\uff17\uff14\uff10\uff10 \uff11\uff12\uff13\uff14\uff15\uff16", "+447400123456"),  # fullwidth digits
    ("+" + "".join(chr(0x660 + int(d)) for d in "447400123456"), "+447400123456"),  # Arabic-Indic digits
    ("  07400 123456  ", "+447400123456"),
    ("\u00a007400\u2009123456\u00a0", "+447400123456"),  # no-break and thin spaces
    ("\u202b07400 123456\u202c", "+447400123456"),  # RTL embedding marks around it
    ("tel:+447400123456", "+447400123456"),
    ("07400 CALLME", "+447400225563"),  # letters on a keypad, as phonenumbers reads vanity numbers
    ("+1 202 555 0143", "+12025550143"),
    ("+44 7000 000000", "+447000000000"),  # valid by the numbering plan, if unused
    # An extension is dropped: E.164 has none, and the number before it is what receives texts.
    ("07400 123456 ext. 12", "+447400123456"),
    ("07400 123456 x12", "+447400123456"),
    ("+447400123456;ext=12", "+447400123456"),
]

REFUSED = [
    ("12345", "'12345' is not a valid phone number (read with default region GB)."),
    ("0740", "'0740' is not a valid phone number (read with default region GB)."),
    ("+44 7400 12345", "'+44 7400 12345' is not a valid phone number (read with default region GB)."),  # possible
    ("+4474001234567890", "'+4474001234567890' is not a valid phone number (read with default region GB)."),
    ("0740O 123456", "'0740O 123456' is not a valid phone number (read with default region GB)."),  # letter O
    ("07400 12345a", "'07400 12345a' is not a valid phone number (read with default region GB)."),
    ("+999 123456789", "'+999 123456789' is not a phone number."),
    ("not a phone", "'not a phone' is not a phone number."),
]


@pytest.mark.parametrize(("phone", "e164"), NORMALISED)
def test_odd_formats_of_a_real_number_are_sent_to_its_e164_form(api, phone, e164):
    response = api.post(SEND, {"phone": phone, "content": "Hi"}, format="json")

    assert response.status_code == 202, response.json()
    assert Message.objects.get().phone == e164


@pytest.mark.parametrize(("phone", "message"), REFUSED)
def test_what_is_not_a_valid_number_is_a_400_naming_it(api, before, phone, message):
    response = api.post(SEND, {"phone": phone, "content": "Hi"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_recipients"
    assert error["details"] == {"invalid": [{"index": 0, "phone": phone, "message": message}]}
    assert changed_rows(before) == {}


@pytest.mark.parametrize(
    ("phone", "problem"),
    [
        ("", "This field may not be blank."),
        ("   ", "This field may not be blank."),
        ("0" * 41, "Ensure this field has no more than 40 characters."),
    ],
)
def test_a_blank_or_overlong_phone_is_a_400_naming_the_field(api, before, phone, problem):
    response = api.post(SEND, {"phone": phone, "content": "Hi"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"phone": [problem]}
    assert changed_rows(before) == {}


def test_every_refused_format_in_an_import_is_a_row_error_naming_row_and_column(run_import_text):
    valid = "".join(f"Ok {i},{phone}\n" for i, (phone, _) in enumerate(NORMALISED[:3]))
    refused = "".join(f'Bad {i},"{phone}"\n' for i, (phone, _) in enumerate(REFUSED))

    job = run_import_text("Name,Mobile\n" + valid + refused)

    assert (job.status, job.imported_rows, job.invalid_rows, job.duplicate_rows) == ("SUCCESS", 1, len(REFUSED), 2)
    assert job.errors == [
        {"row": 5 + i, "column": "Mobile", "message": message} for i, (_, message) in enumerate(REFUSED)
    ]
