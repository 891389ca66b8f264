"""Grove's one configuration schema: every option with its type, default and help.

Settings are layered: schema defaults, then a TOML file, then ``GROVE_*``
environment variables. All errors are collected and reported together.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """One or more settings are invalid; the message lists them all."""


@dataclasses.dataclass(frozen=True)
class Option:
    name: str
    type: type
    default: Any
    help: str
    secret: bool = False
    check: Callable[[Any], str | None] | None = None


def _positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def _bind(value: Any) -> str | None:
    host, sep, port = str(value).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return "must be HOST:PORT"
    return None


OPTIONS: tuple[Option, ...] = (
    Option("data", Path, Path("var"), "Data folder: storage/ and .grove/ live here."),
    Option("bind", str, "127.0.0.1:8080", "Address and port for `grove serve`.", check=_bind),
    Option("threads", int, 16, "Worker threads of the built-in server.", check=_positive),
    Option(
        "database_url",
        str,
        "",
        "Database URL (sqlite:///path or postgresql://…); empty: SQLite in .grove/.",
        secret=True,
    ),
    Option("log_level", str, "info", "Log level.", check=_one_of("debug", "info", "warning", "error")),
    Option(
        "admin_password",
        str,
        "",
        "Password for the `admin` account made on first start; empty: generated.",
        secret=True,
    ),
    Option(
        "max_header_bytes",
        int,
        65536,
        "Largest request head (request line and headers) the built-in server reads.",
        check=_positive,
    ),
    Option(
        "max_xml_body_bytes",
        int,
        1048576,
        "Largest XML request body (PROPFIND, PROPPATCH, LOCK …); larger gets 413.",
        check=_positive,
    ),
    Option(
        "propfind_infinity",
        str,
        "limited",
        "Depth: infinity PROPFIND: `limited` (up to the limit below) or `off`.",
        check=_one_of("limited", "off"),
    ),
    Option(
        "propfind_infinity_limit",
        int,
        10000,
        "Most members a Depth: infinity PROPFIND may list.",
        check=_positive,
    ),
    Option(
        "credential_cache_seconds",
        int,
        60,
        "How long a verified password is remembered (keyed hash, in memory).",
    ),
    Option("lock_timeout_max", int, 604800, "Longest lock lifetime in seconds.", check=_positive),
    Option(
        "durability",
        str,
        "fsync",
        "When a write is acknowledged: `fsync` (file and folder synced) or `none`.",
        check=_one_of("fsync", "none"),
    ),
)

_BY_NAME = {option.name: option for option in OPTIONS}


@dataclasses.dataclass(frozen=True)
class Settings:
    data: Path
    bind: str
    threads: int
    database_url: str
    log_level: str
    admin_password: str
    max_header_bytes: int
    max_xml_body_bytes: int
    propfind_infinity: str
    propfind_infinity_limit: int
    credential_cache_seconds: int
    lock_timeout_max: int
    durability: str

    @property
    def storage_dir(self) -> Path:
        return self.data / "storage"

    @property
    def state_dir(self) -> Path:
        return self.data / ".grove"

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict with secret values masked, for logs and dumps."""
        out: dict[str, Any] = {}
        for option in OPTIONS:
            value = getattr(self, option.name)
            out[option.name] = "***" if option.secret and value else value
        return out


def _coerce(option: Option, raw: Any) -> Any:
    if option.type is bool and isinstance(raw, str):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"not a boolean: {raw!r}")
    if option.type is int and isinstance(raw, bool):
        raise ValueError(f"not an integer: {raw!r}")
    return option.type(raw)


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from defaults, the file, ``GROVE_*`` variables and overrides."""
    environ = os.environ if environ is None else environ
    raw: dict[str, tuple[str, Any]] = {}
    errors: list[str] = []

    if config_file is None and environ.get("GROVE_CONFIG"):
        config_file = Path(environ["GROVE_CONFIG"])
    if config_file is not None:
        try:
            with open(config_file, "rb") as handle:
                for key, value in tomllib.load(handle).items():
                    raw[key] = (f"{config_file}: {key}", value)
        except (OSError, tomllib.TOMLDecodeError) as error:
            errors.append(f"config file {str(config_file)!r}: {error}")
    for key, value in environ.items():
        if key.startswith("GROVE_") and key != "GROVE_CONFIG":
            raw[key[6:].lower()] = (key, value)
    for key, value in (overrides or {}).items():
        if value is not None:
            raw[key] = (f"--{key}", value)

    values = {option.name: option.default for option in OPTIONS}
    for key, (origin, value) in raw.items():
        option = _BY_NAME.get(key)
        if option is None:
            errors.append(f"{origin}: unknown setting {key!r}")
            continue
        try:
            values[key] = _coerce(option, value)
        except (TypeError, ValueError) as error:
            errors.append(f"{origin}: {error}")
            continue
        problem = option.check(values[key]) if option.check else None
        if problem:
            errors.append(f"{origin}: {problem} (got {value!r})")
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
    values["data"] = Path(values["data"]).absolute()
    return Settings(**values)
