"""The README's table of recognised headers is the table the import uses."""

from pathlib import Path

import pytest

from imports.headers import HEADER_WORDS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("role", "language", "words"),
    [(role, language, words) for role, languages in HEADER_WORDS.items() for language, words in languages.items()],
)
def test_every_header_word_is_in_the_readme_table(role, language, words):
    assert f" {', '.join(words)} |" in README, f"README's header table lacks the {language} {role} words"
