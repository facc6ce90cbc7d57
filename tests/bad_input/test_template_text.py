"""Template text at the edges of Unicode and of merge-field syntax: a 400 naming line and column, or kept exactly."""

from __future__ import annotations

import pytest

from templates.models import MessageTemplate
from tests.bad_input.dbstate import changed_rows

TEMPLATES = "/api/v1/templates/"
ZWJ, RLM, COMBINING_ACUTE = "\u200d", "\u200f", "\u0301"


def create(api, content: str, name: str = "t"):
    return api.post(TEMPLATES, {"name": name, "content": content}, format="json")


@pytest.mark.parametrize(
    ("content", "message", "line", "column"),
    [
        ("Hi {{ name", 'Unclosed merge field "{{ name" at line 1, column 4.', 1, 4),
        ("Hi {{ }}", 'Empty merge field "{{ }}" at line 1, column 4.', 1, 4),
        ("Hi }} there", '"}}" without an opening "{{" at line 1, column 4.', 1, 4),
        ("😀👍🏽\n{{ first-name }}", 'Invalid variable name "first-name" at line 2, column 4.', 2, 4),
        ("{{ 1st }}", 'Invalid variable name "1st" at line 1, column 4.', 1, 4),
        (f"{{{{ na{ZWJ}me }}}}", f'Invalid variable name "na{ZWJ}me" at line 1, column 4.', 1, 4),
        (
            f"{{{{ cafe{COMBINING_ACUTE} }}}}",
            f'Invalid variable name "cafe{COMBINING_ACUTE}" at line 1, column 4.',
            1,
            4,
        ),
        ("{{ name|upper }}", 'Unknown filter "upper" (only default is supported) at line 1, column 9.', 1, 9),
        (
            "{{ name|default:friend }}",
            'The default value must be in quotes, as in default:"friend" at line 1, column 17.',
            1,
            17,
        ),
        ("x" * 100_000 + "{{ oops", 'Unclosed merge field "{{ oops" at line 1, column 100001.', 1, 100_001),
    ],
)
def test_malformed_merge_fields_are_a_400_naming_line_and_column(api, before, content, message, line, column):
    response = create(api, content)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("invalid_template", message)
    assert (error["details"]["line"], error["details"]["column"]) == (line, column)
    assert changed_rows(before) == {}


@pytest.mark.parametrize(
    ("content", "field", "problem"),
    [
        ("Hi\u0000there", "content", "Null characters are not allowed."),
        ("", "content", "This field may not be blank."),
        ("   ", "content", "A template needs some text."),
        ("Hi", "name", "Null characters are not allowed."),
    ],
)
def test_text_the_database_cannot_hold_is_a_400_naming_the_field(api, before, content, field, problem):
    name = "bad\u0000name" if field == "name" else "t"

    response = create(api, content, name=name)

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {field: [problem]}
    assert changed_rows(before) == {}


@pytest.mark.parametrize(
    "content",
    [
        "Hi 😀 {{ name }} 👨‍👩‍👧 🇬🇧",  # surrogate pairs, a ZWJ family, a flag
        f"Caf{chr(0x65)}{COMBINING_ACUTE} {{{{ name }}}}",  # a combining mark in the text
        f"{RLM}مرحبا {{{{ name }}}}{RLM}",  # right-to-left text and marks
        "Hi {{ näme }} {{ имя }}",  # letters outside ASCII in names
        "{ single } braces and {{ name|default:'}} inside' }}",
        "x" * 1_529 + " {{ name }}",  # as long as SMS_MAX_PARTS (10) allows: 1,530 GSM-7 characters
    ],
)
def test_unicode_text_is_kept_exactly_as_sent(api, before, content):
    response = create(api, content)

    assert response.status_code == 201
    assert MessageTemplate.objects.get().content == content
    assert changed_rows(before) == {"message_templates.MessageTemplate": 1}


@pytest.mark.parametrize(
    ("content", "parts"),
    [
        ("x" * 100_000 + " {{ name }}", 654),  # under the body limit, far over the parts limit
        ("x" * 1_531, 11),
        ("é" * 1_531, 11),  # é is in GSM-7: 10 parts of 153 hold 1,530
        ("ж" * 671, 11),  # UCS-2: 10 parts of 67 hold 670
    ],
)
def test_text_longer_than_sms_max_parts_even_with_empty_fields_is_a_400_naming_the_field_and_parts(
    api, before, content, parts
):
    response = create(api, content)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "too_many_parts"
    assert error["details"] == {"field": "content", "parts": parts, "max_parts": 10}
    assert changed_rows(before) == {}
