"""Configuration: TOML, then DCS_* environment, then flags; clear errors for bad settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dcs_sdk import ConfigError
from signaling_server.config import Config, load_config


def test_layers_override_in_order(tmp_path: Path) -> None:
    path = tmp_path / "dcs.toml"
    path.write_text('[dcs]\nport = 9000\nissuer = "from-file"\nallowed_origins = ["https://a.test"]\n')
    config = load_config(str(path), env={"DCS_PORT": "9100", "DCS_DEMO": "true"}, port=9200)
    assert config.port == 9200 and config.issuer == "from-file" and config.demo is True
    assert config.allowed_origins == ("https://a.test",)


def test_env_lists_and_json(tmp_path: Path) -> None:
    config = load_config(
        env={
            "DCS_ALLOWED_ORIGINS": "https://a.test, https://b.test",
            "DCS_ASSISTANT_OPTIONS": '{"knowledge_base": "kb.json"}',
        }
    )
    assert config.allowed_origins == ("https://a.test", "https://b.test")
    assert config.assistant_options == {"knowledge_base": "kb.json"}


def test_default_database_is_sqlite_in_data_dir(tmp_path: Path) -> None:
    config = Config(data_dir=str(tmp_path))
    assert config.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'dcs.sqlite3'}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nonsense = 1", "Unknown setting 'nonsense'"),
        ("port = 'eighty'", "wrong type"),
        ("port = [", "not valid TOML"),
    ],
)
def test_bad_files_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "dcs.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(str(path), env={})


def test_dcs_server_command_reports_bad_config(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "signaling_server", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "No token keys are configured" in result.stderr
