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

ROOT = Path(__file__).parents[2]
SRC = ROOT / "widget" / "src"
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
        own = {key: text for key, text in table.items() if not key.startswith("line_")}
        assert set(own) == set(english), (lang, set(english) ^ set(own))
        for key, text in own.items():
            assert text.strip(), (lang, key)
            assert placeholders(text) == placeholders(english[key]), (lang, key, text)


def documented_line_codes() -> set[str]:
    """The system-line codes docs/protocol.md lists ("System lines": `code` after "Codes:")."""
    doc = (ROOT / "docs" / "protocol.md").read_text()
    listed = doc.split("**System lines.**", 1)[1].split("Codes:", 1)[1].split("\n\n", 1)[0]
    codes = set(re.findall(r"`([a-z_]+)`", listed))
    # "`_anon` variants" of the codes that name someone
    codes |= {f"{c}_anon" for c in ("agent_ended", "customer_ended", "cobrowse_started")}
    arguments = {"name", "to", "queue", "ended", "duration", "reason", "opens_at", "closed", "no_agents"}
    return codes - arguments - {"_anon", "call", "cobrowse"}


def test_every_locale_says_every_system_line() -> None:
    """The server's lines (message.line) have no English table: the English is the server's
    text. Every other locale has a sentence for each documented code (and the parts that
    say what ended with the agent), with the same placeholders in every language."""
    all_tables = tables()
    all_tables.pop("en")
    expected = {f"line_{c}" for c in documented_line_codes()} | {
        "line_ended_call",
        "line_ended_cobrowse",
        "line_ended_both",
    }
    assert len(expected) > 25
    reference: dict[str, set[str]] = {}
    for lang, table in all_tables.items():
        lines = {key: text for key, text in table.items() if key.startswith("line_")}
        assert set(lines) == expected, (lang, set(lines) ^ expected)
        for key, text in lines.items():
            assert text.strip(), (lang, key)
            assert placeholders(text) == reference.setdefault(key, placeholders(text)), (lang, key, text)
