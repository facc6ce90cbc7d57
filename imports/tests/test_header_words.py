"""imports.headers: every header word means its role however it is written, in all eight languages, and
the longer headers of address-book exports are read by their words."""

from __future__ import annotations

import unicodedata

import pytest

from imports.headers import HEADER_WORDS, Role, is_mobile_label, role_of

LANGUAGES = {"en", "de", "fr", "es", "pt", "it", "nl", "pl"}

WORDS = [
    pytest.param(role, word, id=f"{role.value}-{language}-{word}")
    for role, languages in HEADER_WORDS.items()
    for language, words in languages.items()
    for word in words
]


def without_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


@pytest.mark.parametrize(("role", "word"), WORDS)
def test_every_header_word_means_its_role(role, word):
    assert (role_of(word), role_of(word, alone=True)) == (role, role)


@pytest.mark.parametrize(("role", "word"), WORDS)
def test_every_header_word_means_its_role_in_upper_case(role, word):
    assert (role_of(word.upper()), role_of(word.upper(), alone=True)) == (role, role)


@pytest.mark.parametrize(("role", "word"), WORDS)
def test_every_header_word_means_its_role_with_its_accents_stripped(role, word):
    plain = without_accents(word)

    assert (role_of(plain), role_of(plain, alone=True)) == (role, role)


@pytest.mark.parametrize(("role", "word"), WORDS)
def test_every_header_word_means_its_role_with_extra_spaces(role, word):
    spaced = "  " + word.replace(" ", "   ") + " \t"

    assert (role_of(spaced), role_of(spaced, alone=True)) == (role, role)


@pytest.mark.parametrize(("role", "word"), WORDS)
def test_every_header_word_means_its_role_with_hyphens_or_underscores_for_spaces(role, word):
    assert role_of(word.replace(" ", "-"), alone=True) == role
    assert role_of(word.replace(" ", "_").lower(), alone=True) == role


@pytest.mark.parametrize(("role", "word"), WORDS)
def test_every_header_word_means_its_role_with_punctuation_around_it(role, word):
    assert role_of(f"{word}:", alone=True) == role
    assert role_of(f"({word.rstrip('.')})", alone=True) == role


@pytest.mark.parametrize("role", [Role.PHONE, Role.MOBILE])
def test_phone_and_mobile_headers_are_listed_in_all_eight_languages(role):
    assert set(HEADER_WORDS[role]) == LANGUAGES
    assert all(HEADER_WORDS[role][language] for language in LANGUAGES)


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("Business Phone 2", Role.PHONE),  # Outlook
        ("Home Phone", Role.PHONE),
        ("Company Main Phone", Role.PHONE),
        ("Mobile Phone Number", Role.MOBILE),  # HubSpot
        ("Mobile Phone", Role.MOBILE),  # Outlook
        ("Telefon mobil privat", Role.MOBILE),
        ("Business Fax", None),
        ("Home Fax", None),
        ("Pager", None),
        ("Assistant's Phone", None),
        ("TTY/TDD Phone", None),
        ("Phone 1 - Label", None),  # Google: the label beside the value
        ("Phone 1 - Type", None),
        ("Order Number", None),
        ("Customer ID", None),
        ("Phone Extension", None),
        ("City", None),
    ],
)
def test_a_composite_header_is_read_by_its_words(header, role):
    assert role_of(header) == role


def test_a_composite_header_alone_on_its_line_is_not_a_header():
    # A title line such as "Phone list, November" must not be taken for a one-column header.
    assert role_of("Phone list, November", alone=True) is None
    assert role_of("Business Phone 2", alone=True) is None


@pytest.mark.parametrize(
    ("label", "mobile"),
    [
        ("* Mobile", True),  # Google marks the primary number with "* "
        ("Mobile", True),
        ("mobile", True),
        ("Handy", True),
        ("Cell", True),
        ("Celular", True),
        ("Work", False),
        ("Home", False),
        ("* Work", False),
        ("Main", False),
        ("Work Fax", False),
        ("", False),
    ],
)
def test_a_google_label_says_mobile_only_when_it_names_a_mobile(label, mobile):
    assert is_mobile_label(label) is mobile
