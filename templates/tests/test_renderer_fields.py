"""Merge fields: values, defaults, whitespace inside the braces, unicode, and the lists of names."""

from __future__ import annotations

import pytest

from templates.renderer import MissingVariables, compile_template

TYPICAL = 'Hi {{ name|default:"there" }}, your order {{ order_no }} ships to {{ city }}.'


def test_it_fills_each_field_with_its_value():
    rendered = compile_template(TYPICAL).render({"name": "Ann", "order_no": "A-17", "city": "Leeds"})

    assert rendered == "Hi Ann, your order A-17 ships to Leeds."


def test_a_missing_value_uses_the_default():
    rendered = compile_template(TYPICAL).render({"order_no": "A-17", "city": "Leeds"})

    assert rendered == "Hi there, your order A-17 ships to Leeds."


def test_an_empty_value_uses_the_default_too():
    rendered = compile_template(TYPICAL).render({"name": "", "order_no": "A-17", "city": "Leeds"})

    assert rendered == "Hi there, your order A-17 ships to Leeds."


def test_an_empty_value_without_a_default_is_missing():
    with pytest.raises(MissingVariables) as error:
        compile_template(TYPICAL).render({"name": "Ann", "order_no": "", "city": "Leeds"})

    assert error.value.names == ["order_no"]


@pytest.mark.parametrize(
    "text",
    [
        "{{name}}",
        "{{ name }}",
        "{{  name  }}",
        "{{\tname\n}}",
        "{{ name|default:'x' }}",
        '{{name|default:"x"}}',
        '{{ name | default : "x" }}',
    ],
)
def test_whitespace_inside_the_braces_does_not_matter(text):
    assert compile_template(text).render({"name": "Ann"}) == "Ann"


def test_a_default_may_hold_spaces_unicode_and_the_other_quote():
    template = compile_template("""{{ a|default:"dear friend" }}/{{ b|default:'cher ami ☺' }}/{{ c|default:"it's" }}""")

    assert template.render({}) == "dear friend/cher ami ☺/it's"


def test_an_empty_default_renders_nothing():
    assert compile_template('Hi{{ name|default:"" }}!').render({}) == "Hi!"


def test_a_default_may_hold_braces():
    assert compile_template('{{ x|default:"}} {{" }}').render({}) == "}} {{"


def test_unicode_names_and_text_render():
    template = compile_template("Привет, {{ имя }}! Bonjour {{ prenom }}, {{ größe }} {{ _x2 }} 😀")

    assert template.variables == ["имя", "prenom", "größe", "_x2"]
    assert template.render({"имя": "Оля", "prenom": "Zoé", "größe": "M", "_x2": "ok"}) == (
        "Привет, Оля! Bonjour Zoé, M ok 😀"
    )


def test_single_braces_are_ordinary_text():
    template = compile_template("{a} } { {{ x }} {} }{")

    assert template.variables == ["x"]
    assert template.render({"x": "1"}) == "{a} } { 1 {} }{"


def test_a_third_brace_after_a_field_is_text():
    assert compile_template("{{ x }}}").render({"x": "1"}) == "1}"


def test_text_without_fields_renders_as_itself():
    template = compile_template("Plain text, no fields.")

    assert (template.variables, template.required) == ([], [])
    assert template.render({}) == "Plain text, no fields."


def test_empty_text_compiles_and_renders_empty():
    assert compile_template("").render({}) == ""


def test_variables_are_unique_in_order_of_first_use():
    template = compile_template('{{ b }} {{ a|default:"x" }} {{ b }} {{ c }} {{ a }}')

    assert template.variables == ["b", "a", "c"]


def test_required_names_are_those_used_without_a_default_at_least_once():
    template = compile_template('{{ b|default:"x" }} {{ a }} {{ c|default:"y" }} {{ b }}')

    assert template.required == ["a", "b"]


def test_a_name_used_with_and_without_a_default_needs_its_value():
    template = compile_template('{{ name|default:"there" }} and {{ name }}')

    with pytest.raises(MissingVariables):
        template.render({})
    assert template.render({"name": "Ann"}) == "Ann and Ann"


def test_names_are_case_sensitive():
    with pytest.raises(MissingVariables) as error:
        compile_template("{{ Name }}").render({"name": "Ann"})

    assert error.value.names == ["Name"]


def test_phone_and_name_are_ordinary_values():
    template = compile_template("{{ name }} on {{ phone }}")

    assert template.render({"name": "Ann", "phone": "+447400123456"}) == "Ann on +447400123456"


def test_values_that_are_not_strings_are_written_as_text():
    assert compile_template("{{ n }} {{ m }}").render({"n": 42, "m": 0}) == "42 0"


def test_a_compiled_template_renders_many_value_sets():
    template = compile_template(TYPICAL)

    rendered = [template.render({"order_no": str(n), "city": "Leeds"}) for n in range(3)]

    assert rendered == [f"Hi there, your order {n} ships to Leeds." for n in range(3)]
