"""Every widget locale (widget/src/i18n/locales/) translates every English text: the first
script's (i18n/en.js) and the call and co-browse chunks' (call/texts.js, cobrowse/texts.js),
with the same {placeholders}. Read with Node, as the build reads them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "widget" / "src"
LOCALES = ("es", "de", "fr", "ar")
READ = """
const files = JSON.parse(process.argv[1]);
const tables = await Promise.all(files.map((f) => import(f).then((m) => m.default)));
console.log(JSON.stringify(tables));
"""


def tables() -> dict[str, dict[str, str]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to build the widget (make deps)")
    english = [
        SRC / "i18n" / "en.js",
        SRC / "call" / "texts.js",
        SRC / "cobrowse" / "texts.js",
        SRC / "filetexts.js",
    ]
    files = [*english, *(SRC / "i18n" / "locales" / f"{lang}.js" for lang in LOCALES)]
    out = subprocess.run(
        [node, "--input-type=module", "-e", READ, json.dumps([f.as_uri() for f in files])],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    loaded = json.loads(out)
    merged: dict[str, str] = {}
    for table in loaded[: len(english)]:
        merged.update(table)
    return {"en": merged, **dict(zip(LOCALES, loaded[len(english) :], strict=True))}


def placeholders(text: str) -> set[str]:
    """{device} and {Device} (the same, capitalised: where a language starts with it) count once."""
    return {name.lower() for name in re.findall(r"\{(\w+)\}", text)}


def test_every_locale_has_every_text_with_its_placeholders() -> None:
    all_tables = tables()
    english = all_tables.pop("en")
    assert len(english) > 100
    for lang, table in all_tables.items():
        assert set(table) == set(english), (lang, set(english) ^ set(table))
        for key, text in table.items():
            assert text.strip(), (lang, key)
            assert placeholders(text) == placeholders(english[key]), (lang, key, text)
