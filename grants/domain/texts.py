"""Multilingual content: pick the reader's version of a text, or fall back visibly."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class LocalText:
    """A text in one language; ``fallback`` is True when it is not the language asked for."""

    text: str
    language: str
    fallback: bool


def pick_text(
    versions: Mapping[str, str] | None,
    wanted: Iterable[str],
    default_language: str,
) -> LocalText:
    """Return the first non-empty version among ``wanted``, else the default, else any.

    ``wanted`` is in order of preference (for example ``["ja"]`` or ``["pt_BR", "pt"]``).
    """
    versions = {lang: text for lang, text in (versions or {}).items() if text and text.strip()}
    wanted = list(wanted)
    for lang in wanted:
        if lang in versions:
            return LocalText(versions[lang], lang, fallback=False)
    first_wanted = wanted[0] if wanted else default_language
    if default_language in versions:
        return LocalText(versions[default_language], default_language, fallback=True)
    for lang in sorted(versions):
        return LocalText(versions[lang], lang, fallback=lang != first_wanted)
    return LocalText("", default_language, fallback=True)


def missing_languages(versions: Mapping[str, str] | None, languages: Iterable[str]) -> list[str]:
    """Languages in ``languages`` that have no non-empty version."""
    present = {lang for lang, text in (versions or {}).items() if text and text.strip()}
    return [lang for lang in languages if lang not in present]


# Scripts written without spaces between words: each character counts as one word, as word
# processors count them (Han ideographs, Hiragana, Katakana).
_NO_SPACE_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def count_words(text: str) -> int:
    """Words in a text: space-separated words, plus one per Chinese or Japanese character."""
    ideographs = len(_NO_SPACE_CHARS.findall(text))
    rest = _NO_SPACE_CHARS.sub(" ", text)
    return ideographs + len(rest.split())
