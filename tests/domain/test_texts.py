"""Multilingual texts and their visible fallback."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grants.domain.texts import LocalText, missing_languages, pick_text


@pytest.mark.parametrize(
    ("versions", "wanted", "expected"),
    [
        ({"en": "Hello", "ja": "こんにちは"}, ["ja"], LocalText("こんにちは", "ja", False)),
        ({"en": "Hello", "ja": "こんにちは"}, ["fr"], LocalText("Hello", "en", True)),
        ({"en": "Hello", "ja": " "}, ["ja"], LocalText("Hello", "en", True)),
        ({"fr": "Bonjour"}, ["ja"], LocalText("Bonjour", "fr", True)),
        ({"fr": "Bonjour"}, ["fr"], LocalText("Bonjour", "fr", False)),
        ({}, ["fr"], LocalText("", "en", True)),
        (None, ["fr"], LocalText("", "en", True)),
        ({"pt": "Olá"}, ["pt_BR", "pt"], LocalText("Olá", "pt", False)),
    ],
)
def test_pick_text_prefers_reader_then_default_then_any(versions, wanted, expected):
    """The reader's language, else the call's default, else any version, marked."""
    assert pick_text(versions, wanted, "en") == expected


@given(
    st.dictionaries(st.sampled_from(["en", "fr", "ja", "cs"]), st.text(), max_size=4),
    st.sampled_from(["en", "fr", "ja", "cs"]),
)
def test_pick_text_never_invents_text(versions, wanted):
    """The text returned is one of the versions (or empty), and fallback is honest."""
    result = pick_text(versions, [wanted], "en")
    if result.text:
        assert versions[result.language] == result.text
    assert result.fallback is (result.language != wanted or not result.text)


def test_missing_languages_lists_empty_versions():
    """Blank and absent versions are both missing."""
    assert missing_languages({"en": "x", "fr": " "}, ["en", "fr", "ja"]) == ["fr", "ja"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("A play about two rivers.", 5),
        ("二つの川の物語", 7),
        ("Tokyo と Prague の川", 5),
        ("", 0),
        ("  spaced   out  ", 2),
    ],
)
def test_count_words_counts_each_ideograph(text, words):
    """Japanese and Chinese text has no spaces: each character is a word."""
    from grants.domain.texts import count_words

    assert count_words(text) == words
