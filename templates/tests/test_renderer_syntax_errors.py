"""Malformed templates are refused, naming what is wrong and where, as a person counts lines and columns."""

from __future__ import annotations

import pytest

from inboxerr.exceptions import InboxerrException
from templates.renderer import TemplateSyntaxError, compile_template


def syntax_error(text: str) -> TemplateSyntaxError:
    with pytest.raises(TemplateSyntaxError) as error:
        compile_template(text)
    return error.value


def test_an_unclosed_field_is_named_with_its_line_and_column():
    error = syntax_error("Hello {{ name")

    assert error.message == 'Unclosed merge field "{{ name" at line 1, column 7.'
    assert error.position == 6
    assert error.details == {"position": 6, "line": 1, "column": 7}


def test_it_is_an_inboxerr_error_answering_400():
    error = syntax_error("{{ x")

    assert isinstance(error, InboxerrException)
    assert (error.status_code, error.code) == (400, "invalid_template")


def test_a_field_opened_again_before_it_closes_is_unclosed():
    error = syntax_error("{{ a {{ b }}")

    assert error.message == 'Unclosed merge field "{{ a" at line 1, column 1.'


def test_a_long_unclosed_field_is_shown_cut_short():
    error = syntax_error("{{ name and then a great deal more text")

    assert error.message == 'Unclosed merge field "{{ name and then a great deal…" at line 1, column 1.'


def test_lines_and_columns_count_from_one_after_each_newline():
    error = syntax_error("Hi {{ name }},\nyour order\n  {{ order_no ships today")

    assert error.details == {"position": 28, "line": 3, "column": 3}


def test_a_closing_pair_without_an_opening_is_refused():
    error = syntax_error("Hi {{ name }} }} there")

    assert error.message == '"}}" without an opening "{{" at line 1, column 15.'
    assert error.position == 14


def test_an_empty_field_is_refused():
    error = syntax_error("Hi {{  }}!")

    assert error.message == 'Empty merge field "{{  }}" at line 1, column 4.'


@pytest.mark.parametrize(
    ("text", "name", "position"),
    [
        ("{{ 1st }}", "1st", 3),
        ("{{ first name }}", "first name", 3),
        ("x {{order-no}}", "order-no", 4),
        ("{{ n@me|default:'x' }}", "n@me", 3),
    ],
)
def test_a_bad_variable_name_is_refused_at_the_name(text, name, position):
    error = syntax_error(text)

    assert error.message.startswith(f'Invalid variable name "{name}" at')
    assert error.position == position


def test_a_missing_name_before_a_filter_is_refused():
    assert syntax_error('{{ |default:"x" }}').message == "Missing variable name at line 1, column 4."


def test_an_unknown_filter_is_refused_at_the_filter():
    error = syntax_error("Hi {{ x|upper }}")

    assert error.message == 'Unknown filter "upper" (only default is supported) at line 1, column 9.'


def test_a_bar_without_a_filter_is_refused():
    assert syntax_error("{{ x| }}").message == 'Missing filter after "|" at line 1, column 5.'


def test_a_default_without_a_value_is_refused():
    error = syntax_error("{{ x|default }}")

    assert error.message == 'The default filter needs a value, as in default:"friend" at line 1, column 6.'


def test_a_default_without_quotes_is_refused_at_the_value():
    error = syntax_error("{{ x|default:friend }}")

    assert error.message == 'The default value must be in quotes, as in default:"friend" at line 1, column 14.'


def test_an_unterminated_default_is_refused():
    assert syntax_error('{{ x|default:"friend }}').position == 13


def test_text_after_the_default_is_refused_where_it_starts():
    error = syntax_error('{{ x|default:"a"  b }}')

    assert error.message == "Unexpected text after the default value at line 1, column 19."


def test_the_first_fault_is_the_one_reported():
    assert syntax_error("{{ ok }} {{ 2nd }} }}").position == 12


def test_positions_count_characters_not_bytes():
    assert syntax_error("Привет 😀 {{ x").details == {"position": 9, "line": 1, "column": 10}
