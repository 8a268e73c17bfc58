"""Translation catalogs: up to date with the code, complete, placeholders intact."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from grants.config import LANGUAGES, PROJECT_ROOT
from tests.conftest import child_env

TRANSLATIONS = PROJECT_ROOT / "translations"
# gettext's %(name)s placeholders, and {n} in the few labels filled with str.format.
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]|\{(\w+)\}")


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def _ids(catalog) -> set:
    return {message.id for message in catalog if message.id}


def test_catalog_template_is_up_to_date_with_the_code(tmp_path):
    """Re-extracting the strings would neither add nor drop an entry."""
    fresh = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [
            str(pybabel),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "--no-location",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        env=child_env(),
    )
    with fresh.open("rb") as new, (TRANSLATIONS / "messages.pot").open("rb") as old:
        new_ids, old_ids = _ids(read_po(new)), _ids(read_po(old))
    assert new_ids - old_ids == set(), "run: flask --app wsgi translate update"
    assert old_ids - new_ids == set(), "run: flask --app wsgi translate update"


@pytest.mark.parametrize("locale", LANGUAGES)
def test_catalog_is_complete_and_keeps_placeholders(locale):
    """Every entry translated, none fuzzy, the same placeholders as the English text."""
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        template_ids = _ids(read_po(handle))
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    assert _ids(catalog) >= template_ids, "catalog misses entries: run translate update"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set().union(*(_placeholders(i) for i in ids))
        for string in strings:
            if not string:
                problems.append(f"untranslated: {ids[0]!r}")
            elif not _placeholders(string) <= expected or (
                len(ids) == 1 and _placeholders(string) != expected
            ):
                problems.append(f"placeholders differ: {ids[0]!r} -> {string!r}")
    assert problems == []
