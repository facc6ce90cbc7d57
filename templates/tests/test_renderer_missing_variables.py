"""Strict rendering: a field without a value and without a default is an error, never literal braces."""

from __future__ import annotations

import pytest

from templates.renderer import MissingVariables, compile_template


def test_every_missing_name_is_listed_sorted_and_once():
    template = compile_template('{{ zip }} {{ city }} {{ name|default:"you" }} {{ zip }} {{ area }}')

    with pytest.raises(MissingVariables) as error:
        template.render({"city": "Leeds"})

    assert error.value.names == ["area", "zip"]
    assert error.value.details == {"missing": ["area", "zip"]}
    assert error.value.message == "Missing variables without a default: area, zip."


def test_empty_values_count_as_missing():
    with pytest.raises(MissingVariables) as error:
        compile_template("{{ a }} {{ b }}").render({"a": "", "b": None})

    assert error.value.names == ["a", "b"]


def test_it_answers_with_its_own_error_code():
    with pytest.raises(MissingVariables) as error:
        compile_template("{{ a }}").render({})

    assert (error.value.status_code, error.value.code) == (400, "missing_variables")


def test_whitespace_is_a_value():
    assert compile_template('[{{ a|default:"x" }}]').render({"a": " "}) == "[ ]"
