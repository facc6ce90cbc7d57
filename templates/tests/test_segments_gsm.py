"""GSM-7 texts: 160 septets in one part, 153 a part beyond, extension characters two septets each."""

from __future__ import annotations

import pytest

from templates.segments import GSM_7, Segments, analyse


def test_empty_text_is_zero_parts():
    assert analyse("") == Segments(encoding=GSM_7, characters=0, units=0, parts=0)


def test_160_gsm_characters_are_one_part():
    assert analyse("a" * 160) == Segments(GSM_7, 160, 160, 1)


def test_161_gsm_characters_are_two_parts():
    assert analyse("a" * 161) == Segments(GSM_7, 161, 161, 2)


@pytest.mark.parametrize(("length", "parts"), [(306, 2), (307, 3), (459, 3), (460, 4), (1530, 10)])
def test_long_texts_are_153_septets_a_part(length, parts):
    assert analyse("x" * length).parts == parts


def test_the_whole_basic_set_including_accents_and_greek_is_gsm():
    text = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà"

    assert analyse(text) == Segments(GSM_7, len(text), len(text), 1)


@pytest.mark.parametrize("char", list("^{}\\[~]|€\f"))
def test_each_extension_character_counts_two_septets(char):
    assert analyse(f"a{char}b").units == 4


def test_euro_and_brackets_count_two_each():
    text = "Total: €5 [x] {y}"

    assert analyse(text) == Segments(GSM_7, 17, 22, 1)


def test_80_euro_signs_fill_one_part_and_81_take_two():
    assert analyse("€" * 80) == Segments(GSM_7, 80, 160, 1)
    assert analyse("€" * 81) == Segments(GSM_7, 81, 162, 2)


def test_an_extension_character_is_never_split_across_parts():
    # 152 + 2 + 152 = 306 septets would fit two parts of 153, but the euro cannot be cut:
    # part one holds 152, part two the euro and 151, part three the last one.
    text = "a" * 152 + "€" + "a" * 152

    assert analyse(text) == Segments(GSM_7, 305, 306, 3)


def test_an_extension_character_that_fits_exactly_stays_in_its_part():
    text = "a" * 151 + "€" + "a" * 153

    assert analyse(text) == Segments(GSM_7, 305, 306, 2)


def test_extension_characters_in_a_long_text_add_up():
    text = "{}" * 100  # 400 septets, every pair whole: 76 characters (152 septets) a part

    assert analyse(text) == Segments(GSM_7, 200, 400, 3)


def test_lowercase_c_cedilla_is_not_gsm():
    assert analyse("ç").encoding == "UCS-2"


def test_the_escape_character_itself_is_not_text():
    assert analyse("a\x1bb").encoding == "UCS-2"
