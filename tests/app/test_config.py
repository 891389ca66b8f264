"""The one configuration schema, its layers, its errors and its documents."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from app.config import (
    OPTIONS,
    ConfigError,
    Settings,
    example_toml,
    load_settings,
    reference_markdown,
)
from tests.app.processes import REPO


def test_example_file_is_the_schema_rendered() -> None:
    shipped = (REPO / "config" / "grove.example.toml").read_text()
    assert shipped == example_toml(), (
        "run: grove config example > config/grove.example.toml"
    )


def test_example_file_uncommented_gives_the_defaults(tmp_path: Path) -> None:
    shipped = (REPO / "config" / "grove.example.toml").read_text()
    assignments = re.findall(r"^# (\w+ = .*)$", shipped, re.M)
    values = tomllib.loads("\n".join(assignments))
    assert sorted(values) == sorted(option.name for option in OPTIONS)
    for option in OPTIONS:
        assert values[option.name] == (
            str(option.default) if isinstance(option.default, Path) else option.default
        )
    config = tmp_path / "grove.toml"
    config.write_text("\n".join(assignments))
    assert load_settings(config, environ={}) == load_settings(environ={})


def test_configuration_doc_carries_the_schema_table() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text()
    assert reference_markdown() in doc, "run: grove config reference"


def test_every_option_is_a_settings_field_with_help() -> None:
    fields = [field.name for field in Settings.__dataclass_fields__.values()]
    assert fields == [option.name for option in OPTIONS]
    assert all(option.help.endswith(".") for option in OPTIONS)


def test_layers_file_then_environment_then_overrides(tmp_path: Path) -> None:
    config = tmp_path / "grove.toml"
    config.write_text('threads = 4\nlog_level = "debug"\nbind = "127.0.0.1:9000"\n')
    env = {"GROVE_THREADS": "6", "GROVE_LOG_LEVEL": "warning"}
    settings = load_settings(config, environ=env, overrides={"log_level": "error"})
    assert (settings.threads, settings.log_level, settings.bind) == (
        6,
        "error",
        "127.0.0.1:9000",
    )


def test_config_file_named_by_grove_config(tmp_path: Path) -> None:
    config = tmp_path / "grove.toml"
    config.write_text(f'data = "{tmp_path / "elsewhere"}"\n')
    settings = load_settings(environ={"GROVE_CONFIG": str(config)})
    assert settings.data == tmp_path / "elsewhere"


def test_all_errors_are_reported_at_once(tmp_path: Path) -> None:
    config = tmp_path / "grove.toml"
    config.write_text(
        'colour = "green"\nthreads = 2.5\nmax_header_bytes = true\n'
        'bind = 8080\npropfind_infinity = "sometimes"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={"GROVE_LOCK_TIMEOUT_MAX": "0", "GROVE_X": "1"})
    message = str(caught.value)
    for fragment in (
        "unknown setting 'colour'",
        "threads: expected an integer, got 2.5",
        "max_header_bytes: expected an integer, got True",
        "bind: expected a string, got 8080",
        "propfind_infinity: must be one of limited, off",
        "GROVE_LOCK_TIMEOUT_MAX: must be greater than 0",
        "GROVE_X: unknown setting 'x'",
    ):
        assert fragment in message
    assert len(message.splitlines()) == 8


def test_unreadable_config_file_is_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("threads = \n")
    for path in (broken, tmp_path / "missing.toml"):
        with pytest.raises(ConfigError, match=re.escape(str(path))):
            load_settings(path, environ={})


def test_secret_values_are_never_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"GROVE_ADMIN_PASSWORD": "tiny12"})
    assert "tiny12" not in str(caught.value)
    assert "admin_password" in str(caught.value).lower()

    settings = load_settings(
        environ={
            "GROVE_ADMIN_PASSWORD": "long enough secret",
            "GROVE_DATABASE_URL": "postgresql://grove:pw-in-url@db/grove",
        }
    )
    shown = str(settings.redacted())
    assert "long enough secret" not in shown and "pw-in-url" not in shown
