"""UCS-2 texts: 70 code units in one part, 67 a part beyond, characters outside the BMP two units each."""

from __future__ import annotations

import pytest

from templates.segments import UCS_2, Segments, analyse


def test_one_non_gsm_character_makes_the_whole_text_ucs2():
    assert analyse("a" * 69 + "ж") == Segments(UCS_2, 70, 70, 1)


def test_70_units_are_one_part_and_71_two():
    assert analyse("ж" * 70) == Segments(UCS_2, 70, 70, 1)
    assert analyse("ж" * 71) == Segments(UCS_2, 71, 71, 2)


@pytest.mark.parametrize(("length", "parts"), [(134, 2), (135, 3), (201, 3), (202, 4)])
def test_long_texts_are_67_units_a_part(length, parts):
    assert analyse("ж" * length).parts == parts


def test_an_emoji_outside_the_bmp_is_two_units():
    assert analyse("Hi 😀") == Segments(UCS_2, 4, 5, 1)


def test_35_emoji_fill_one_part_and_36_take_two():
    assert analyse("😀" * 35) == Segments(UCS_2, 35, 70, 1)
    assert analyse("😀" * 36) == Segments(UCS_2, 36, 72, 2)


def test_a_bmp_symbol_is_one_unit():
    assert analyse("☺" * 70) == Segments(UCS_2, 70, 70, 1)


def test_a_surrogate_pair_is_never_split_across_parts():
    # 66 + 2 + 66 = 134 units would fit two parts of 67, but the emoji cannot be cut:
    # part one holds 66, part two the emoji and 65, part three the last one.
    text = "ж" * 66 + "😀" + "ж" * 66

    assert analyse(text) == Segments(UCS_2, 133, 134, 3)


def test_a_surrogate_pair_that_fits_exactly_stays_in_its_part():
    text = "ж" * 65 + "😀" + "ж" * 67

    assert analyse(text) == Segments(UCS_2, 133, 134, 2)


def test_emoji_in_a_long_text_add_up():
    text = "😀" * 100  # 200 units, 33 emoji (66 units) a part

    assert analyse(text) == Segments(UCS_2, 100, 200, 4)


def test_characters_count_code_points_and_units_count_utf16():
    text = "Привет, 👋🏽 Zoë!"

    segments = analyse(text)

    assert (segments.characters, segments.units) == (len(text), len(text.encode("utf-16-le")) // 2)
    assert segments.units == segments.characters + 2
