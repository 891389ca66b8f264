"""Grove's one configuration schema: every option with its type, default and help.

Settings are layered: schema defaults, then a TOML file, then ``GROVE_*``
environment variables. All errors are collected and reported together.
"""

from __future__ import annotations

import dataclasses
import json
import os
import textwrap
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from app import forwarded


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


def _not_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def _password(value: Any) -> str | None:
    return (
        None
        if not value or len(value) >= 8
        else "must be empty or 8 characters or more"
    )


def _networks(value: Any) -> str | None:
    try:
        forwarded.parse_networks(str(value))
    except ValueError as error:
        return f"must be addresses or networks separated by commas ({error})"
    return None


def _bind(value: Any) -> str | None:
    host, sep, port = str(value).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return "must be HOST:PORT"
    return None


def _octal_mode(value: Any) -> str | None:
    try:
        mode = int(str(value), 8)
    except ValueError:
        return "must be an octal mode such as 0664"
    return None if 0 <= mode <= 0o7777 else "must be an octal mode such as 0664"


def _account(kind: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        import grp
        import pwd

        if not value or str(value).isdigit():
            return None
        try:
            (grp.getgrnam if kind == "group" else pwd.getpwnam)(str(value))
        except KeyError:
            return f"no such {kind} on this system"
        return None

    return check


OPTIONS: tuple[Option, ...] = (
    Option(
        "data",
        Path,
        Path("var"),
        "Data folder: storage/ (the file tree) and .grove/ (database, staging, keys); "
        "a relative path is taken from the working directory.",
    ),
    Option(
        "bind",
        str,
        "127.0.0.1:8080",
        "HOST:PORT that `grove serve` listens on (gunicorn takes its own --bind).",
        check=_bind,
    ),
    Option(
        "threads",
        int,
        16,
        "Request threads of `grove serve` (under gunicorn: its `threads` setting).",
        check=_positive,
    ),
    Option(
        "database_url",
        str,
        "",
        "Database URL (sqlite:///path or postgresql://…); empty: SQLite in .grove/.",
        secret=True,
    ),
    Option(
        "log_level",
        str,
        "info",
        "Log level: `debug`, `info`, `warning` or `error`; logs go to stderr.",
        check=_one_of("debug", "info", "warning", "error"),
    ),
    Option(
        "admin_password",
        str,
        "",
        "Password for the `admin` account made on first start; empty: generated.",
        secret=True,
        check=_password,
    ),
    Option(
        "max_header_bytes",
        int,
        65536,
        "Largest request head (request line and headers) `grove serve` reads; larger "
        "gets 414 or 413 (under gunicorn see config/gunicorn.conf.py).",
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
        "Seconds a verified password is remembered (keyed hash, in memory; a password "
        "change ends it at once); 0: verify every request.",
        check=_not_negative,
    ),
    Option(
        "tls_cert",
        str,
        "",
        "Certificate chain (PEM) for `grove serve` to serve HTTPS; empty: plain HTTP "
        "(put a TLS reverse proxy in front).",
    ),
    Option(
        "tls_key",
        str,
        "",
        "Private key (PEM) of the certificate in `tls_cert`.",
    ),
    Option(
        "trusted_proxies",
        str,
        "",
        "Addresses or networks (comma-separated, e.g. `127.0.0.1, 10.0.0.0/8`) of "
        "reverse proxies whose X-Forwarded-For/-Proto/-Host/-Prefix headers are "
        "believed; "
        "from anywhere else they are ignored.",
        check=_networks,
    ),
    Option(
        "throttle_account_failures",
        int,
        10,
        "Failed sign-ins to one account within the throttle window after which "
        "password sign-ins to it are refused (429) for a while, except from addresses "
        "that signed in to it successfully in the last 30 days.",
        check=_positive,
    ),
    Option(
        "throttle_address_failures",
        int,
        30,
        "Failed sign-ins from one address within the throttle window after which "
        "every sign-in from it is refused (429) for a while.",
        check=_positive,
    ),
    Option(
        "throttle_window_seconds",
        int,
        900,
        "Seconds over which failed sign-ins are counted.",
        check=_positive,
    ),
    Option(
        "throttle_block_seconds",
        int,
        60,
        "Seconds of the first refusal; each repeat within the window doubles it, up "
        "to `throttle_block_max_seconds`.",
        check=_positive,
    ),
    Option(
        "throttle_block_max_seconds",
        int,
        3600,
        "Longest refusal after failed sign-ins, in seconds.",
        check=_positive,
    ),
    Option(
        "totp_required",
        str,
        "off",
        "Who must sign in with TOTP: `off`, `admins` or `everyone`; until they enrol, "
        "their password opens only the enrolment.",
        check=_one_of("off", "admins", "everyone"),
    ),
    Option(
        "session_idle_seconds",
        int,
        7200,
        "Seconds a sign-in session lasts without use.",
        check=_positive,
    ),
    Option(
        "session_max_seconds",
        int,
        86400,
        "Seconds a sign-in session lasts at most, however often it is used.",
        check=_positive,
    ),
    Option(
        "master_key",
        str,
        "",
        "Master key (base64, 32 bytes) that seals secrets at rest; empty: the key "
        "file in .grove/keys/, made on first start.",
        secret=True,
    ),
    Option(
        "master_key_file",
        str,
        "",
        "File holding the master key (base64), for keys kept in a vault or a "
        "mounted secret; empty: see master_key.",
    ),
    Option(
        "lock_timeout_max",
        int,
        604800,
        "Longest lock lifetime in seconds.",
        check=_positive,
    ),
    Option(
        "durability",
        str,
        "fsync",
        "When a write is acknowledged: `fsync` (file and folder synced) or `none`.",
        check=_one_of("fsync", "none"),
    ),
    Option(
        "quota_default",
        int,
        0,
        "Quota in bytes of every space (personal or project) that has none of its "
        "own; 0: no limit. Trash counts toward it, versions do not.",
        check=_not_negative,
    ),
    Option(
        "file_mode",
        str,
        "0644",
        "Mode (octal) of files Grove writes into storage/; for example 0664 so that a "
        "shared group can write them too.",
        check=_octal_mode,
    ),
    Option(
        "folder_mode",
        str,
        "0755",
        "Mode (octal) of folders Grove makes in storage/; for example 2775 (setgid: "
        "new members keep the folder's group).",
        check=_octal_mode,
    ),
    Option(
        "file_group",
        str,
        "",
        "Group (name or number) of files and folders Grove writes; empty: the "
        "server's own group (changing it needs membership in the group, or root).",
        check=_account("group"),
    ),
    Option(
        "file_owner",
        str,
        "",
        "Owner (name or number) of files and folders Grove writes; empty: the "
        "server's user (changing it needs root).",
        check=_account("user"),
    ),
    Option(
        "watch",
        bool,
        True,
        "Follow changes that other programs make in storage/ (inotify) while Grove "
        "serves; one process per data folder watches (see docs/posix.md).",
    ),
    Option(
        "scan_at_start",
        bool,
        True,
        "Reconcile the database with the whole tree when the watcher starts (finds "
        "what changed while Grove was down), in the background.",
    ),
    Option(
        "scan_interval",
        int,
        0,
        "Seconds between full scans of the tree while watching; 0: none (scans still "
        "follow an inotify overflow, and run every 300 s when the kernel's watch "
        "limit is reached).",
        check=_not_negative,
    ),
    Option(
        "watch_batch_ms",
        int,
        200,
        "Milliseconds the watcher lets a burst of changes settle before applying "
        "them in one batch.",
        check=_not_negative,
    ),
    Option(
        "upload_max_bytes",
        int,
        0,
        "Largest file an upload may bring, in bytes (every door); larger gets 413; "
        "0: no limit.",
        check=_not_negative,
    ),
    Option(
        "upload_blocked_extensions",
        str,
        "",
        "File name extensions refused on upload (403), comma-separated and without "
        "the dot, e.g. `exe, bat, scr`; case does not matter.",
    ),
    Option(
        "upload_blocked_types",
        str,
        "",
        "MIME types refused on upload (403), as detected from the content, "
        "comma-separated; `type/*` blocks a whole family, e.g. "
        "`application/x-dosexec, application/x-executable`.",
    ),
    Option(
        "mime_mismatch",
        str,
        "accept",
        "Content whose detected type contradicts its name's extension (see "
        "docs/pipeline.md): `accept` (stored, reported with the detected type) or "
        "`refuse` (415).",
        check=_one_of("accept", "refuse"),
    ),
    Option(
        "scanner",
        str,
        "none",
        "Malware scanner every upload passes before it is committed: `none`, "
        "`clamd` (see clamd_address) or `icap` (see icap_url).",
        check=_one_of("none", "clamd", "icap"),
    ),
    Option(
        "clamd_address",
        str,
        "/var/run/clamav/clamd.ctl",
        "Where clamd listens: the path of its Unix socket (LocalSocket) or HOST:PORT "
        "(TCPSocket).",
    ),
    Option(
        "icap_url",
        str,
        "icap://127.0.0.1:1344/virus_scan",
        "ICAP service that scans uploads (RESPMOD with preview), e.g. c-icap's "
        "virus_scan: icap://HOST:PORT/SERVICE.",
    ),
    Option(
        "scan_max_bytes",
        int,
        26214400,
        "Largest content sent to the scanner, in bytes; keep clamd's StreamMaxLength "
        "(or c-icap's virus_scan.MaxObjectSize) at least this large. Larger content "
        "is 'not scanned: over limit' (see scan_over_limit).",
        check=_positive,
    ),
    Option(
        "scan_over_limit",
        str,
        "accept",
        "Content over scan_max_bytes: `accept` (stored unscanned, audited as "
        "'not scanned: over limit') or `refuse` (413).",
        check=_one_of("accept", "refuse"),
    ),
    Option(
        "scan_unreachable",
        str,
        "refuse",
        "When the scanner cannot be reached or fails: `refuse` (503, the client "
        "retries later) or `accept` (stored unscanned, audited and logged as a "
        "warning).",
        check=_one_of("refuse", "accept"),
    ),
    Option(
        "scan_timeout_seconds",
        int,
        120,
        "Seconds a scan may take (connection and each read) before the scanner "
        "counts as unreachable.",
        check=_positive,
    ),
    Option(
        "external_scan",
        str,
        "quarantine",
        "Files other programs write into the tree, when a `scanner` is set: "
        "`quarantine` (scanned; an infected one is moved to .grove/quarantine/ and "
        "audited), `report` (scanned; an infected one stays, logged and audited) or "
        "`off` (not scanned).",
        check=_one_of("quarantine", "report", "off"),
    ),
    Option(
        "job_threads",
        int,
        2,
        "Threads per serving process that run background jobs (retention, "
        "checksums, indexing); 0: none, run `grove worker` instead.",
        check=_not_negative,
    ),
    Option(
        "trash_retention_days",
        int,
        30,
        "Days a deleted item stays in its space's trash before it is purged; 0: "
        "kept until purged by hand.",
        check=_not_negative,
    ),
    Option(
        "versions_retention_days",
        int,
        30,
        "Days an earlier version of a file is kept; 0: kept regardless of age.",
        check=_not_negative,
    ),
    Option(
        "versions_max_count",
        int,
        100,
        "Most earlier versions kept per file (the oldest go first); 0: no limit.",
        check=_not_negative,
    ),
    Option(
        "search_backend",
        str,
        "sqlite",
        "Search index: `sqlite` (FTS5 in .grove/search/, nothing to set up) or "
        "`elasticsearch` (set `search_elasticsearch_url`; server major version 9).",
        check=_one_of("sqlite", "elasticsearch"),
    ),
    Option(
        "search_elasticsearch_url",
        str,
        "",
        "Elasticsearch URL, credentials included if any (https://user:pass@host:9200).",
        secret=True,
    ),
    Option(
        "search_elasticsearch_index",
        str,
        "grove",
        "Name of Grove's Elasticsearch index (one per Grove deployment).",
    ),
    Option(
        "search_extract_max_bytes",
        int,
        20971520,
        "Largest file whose text is extracted for the content index; larger files "
        "are found by name and metadata only.",
        check=_not_negative,
    ),
    Option(
        "search_extract_timeout_seconds",
        int,
        20,
        "Seconds text extraction may take per file before it gives up (the file "
        "stays stored and findable by name).",
        check=_positive,
    ),
    Option(
        "search_extract_memory_mb",
        int,
        512,
        "Memory (address space, MiB) of the process that reads PDF and office "
        "documents; a document that needs more is indexed by name only.",
        check=_positive,
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
    tls_cert: str
    tls_key: str
    trusted_proxies: str
    throttle_account_failures: int
    throttle_address_failures: int
    throttle_window_seconds: int
    throttle_block_seconds: int
    throttle_block_max_seconds: int
    totp_required: str
    session_idle_seconds: int
    session_max_seconds: int
    master_key: str
    master_key_file: str
    lock_timeout_max: int
    durability: str
    quota_default: int
    file_mode: str
    folder_mode: str
    file_group: str
    file_owner: str
    watch: bool
    scan_at_start: bool
    scan_interval: int
    watch_batch_ms: int
    upload_max_bytes: int
    upload_blocked_extensions: str
    upload_blocked_types: str
    mime_mismatch: str
    scanner: str
    clamd_address: str
    icap_url: str
    scan_max_bytes: int
    scan_over_limit: str
    scan_unreachable: str
    scan_timeout_seconds: int
    external_scan: str
    job_threads: int
    trash_retention_days: int
    versions_retention_days: int
    versions_max_count: int
    search_backend: str
    search_elasticsearch_url: str
    search_elasticsearch_index: str
    search_extract_max_bytes: int
    search_extract_timeout_seconds: int
    search_extract_memory_mb: int

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


_KINDS = {int: "an integer", str: "a string", bool: "true or false", Path: "a path"}


def _shown(option: Option, value: Any) -> str:
    return "***" if option.secret else repr(value)


def _from_text(option: Option, raw: str) -> Any:
    if option.type is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError
    return option.type(raw.strip() if option.type is int else raw)


def _coerce(option: Option, raw: Any) -> Any:
    """The value as the option's type; text (environment) is parsed, TOML must match."""
    try:
        if isinstance(raw, str):
            return _from_text(option, raw)
        # bool is an int subclass and 1.5 would truncate: neither passes as int.
        if isinstance(raw, option.type) and not (
            option.type is int and isinstance(raw, bool)
        ):
            return raw
    except ValueError:
        pass
    raise ValueError(f"expected {_KINDS[option.type]}, got {_shown(option, raw)}")


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
        except ValueError as error:
            errors.append(f"{origin}: {error}")
            continue
        problem = option.check(values[key]) if option.check else None
        if problem:
            errors.append(f"{origin}: {problem} (got {_shown(option, value)})")
    if (
        values["search_backend"] == "elasticsearch"
        and not values["search_elasticsearch_url"]
    ):
        errors.append("search_backend 'elasticsearch' needs search_elasticsearch_url")
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
    values["data"] = Path(values["data"]).absolute()
    return Settings(**values)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def environment_name(option: Option) -> str:
    return f"GROVE_{option.name.upper()}"


def example_toml() -> str:
    """config/grove.example.toml: every option, commented out, at its default."""
    lines = [
        "# Grove configuration (TOML): every option at its default.",
        "# Layers: defaults, then this file (--config FILE or GROVE_CONFIG), then",
        "# GROVE_<NAME> environment variables, then command-line options.",
        "# Made by `grove config example`; a test keeps it in step with the schema.",
    ]
    for option in OPTIONS:
        lines.append("")
        lines.extend("# " + line for line in textwrap.wrap(option.help, 78))
        lines.append(f"# Environment: {environment_name(option)}")
        lines.append(f"# {option.name} = {_toml(option.default)}")
    return "\n".join(lines) + "\n"


def reference_markdown() -> str:
    """The option table of docs/configuration.md."""
    lines = [
        "| option | environment | default | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for option in OPTIONS:
        default = _toml(option.default)
        secret = " Secret: never logged." if option.secret else ""
        lines.append(
            f"| `{option.name}` | `{environment_name(option)}` | `{default}` "
            f"| {option.help}{secret} |"
        )
    return "\n".join(lines) + "\n"
