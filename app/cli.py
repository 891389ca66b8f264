"""The ``grove`` command: serve, migrate, manage users, show the configuration."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from app import account_roles, audit, config, sealing, spaces, users
from app.auth import tokens, totp
from app.auth.principal import FULL, READ_ONLY
from app.cli_options import data_and_config as _common
from app.config import ConfigError, Settings, load_settings
from app.errors import GroveError
from app.instance import Grove
from app.migrate import SchemaError


@contextmanager
def _clear_errors() -> Iterator[None]:
    """Turn the errors a user can act on into a message and exit status 1."""
    try:
        yield
    except (ConfigError, SchemaError, GroveError) as error:
        raise click.ClickException(str(error)) from None


def _settings(data: Path | None, config_file: Path | None, **extra: Any) -> Settings:
    with _clear_errors():
        return load_settings(config_file, overrides={"data": data, **extra})


def _grove(data: Path | None, config_file: Path | None) -> Grove:
    grove = Grove(_settings(data, config_file))
    with _clear_errors():
        grove.prepare()
    return grove


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group()
def main() -> None:
    """Grove: a self-hosted file cloud on one POSIX tree."""


@main.command()
@click.option("--bind", help="HOST:PORT to listen on (default 127.0.0.1:8080).")
@click.option("--tls-cert", help="Certificate chain (PEM): serve HTTPS.")
@click.option("--tls-key", help="Private key (PEM) of the certificate.")
@_common
def serve(
    bind: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    data: Path | None,
    config_file: Path | None,
) -> None:
    """Serve WebDAV and the API with the built-in server."""
    from app.server import BindError, run

    settings = _settings(
        data, config_file, bind=bind, tls_cert=tls_cert, tls_key=tls_key
    )
    try:
        with _clear_errors():
            run(settings)
    except BindError as error:
        raise click.ClickException(str(error)) from None


@main.command()
@_common
def migrate(data: Path | None, config_file: Path | None) -> None:
    """Upgrade the database schema to this version of Grove."""
    grove = Grove(_settings(data, config_file))
    with _clear_errors():
        old, new = grove.upgrade()
    grove.database.close()
    click.echo(
        f"schema version {old} -> {new}" if old != new else f"schema version {new}"
    )


@main.command()
@click.option("--threads", type=int, help="Worker threads (default: job_threads).")
@click.option("--once", is_flag=True, help="Run queued and periodic jobs, then exit.")
@_common
def worker(
    threads: int | None, once: bool, data: Path | None, config_file: Path | None
) -> None:
    """Run background jobs (retention, checksums, indexing) until stopped."""
    from app import jobs
    from app.factory import configure_logging

    grove = _grove(data, config_file)
    configure_logging(grove.settings)
    if once:
        jobs.run_periodic_now()
        click.echo(f"{jobs.run_pending()} jobs run")
        return
    jobs.run_worker(threads if threads is not None else grove.settings.job_threads)


@main.group()
def user() -> None:
    """Manage user accounts."""


@user.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Give the account admin rights.")
@click.option(
    "--space-admin", is_flag=True, help="Let the account create project spaces."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@_common
def user_add(
    name: str,
    admin: bool,
    space_admin: bool,
    password_stdin: bool,
    data: Path | None,
    config_file: Path | None,
) -> None:
    """Create an account and its personal space."""
    if admin and space_admin:
        raise click.UsageError("an admin is a space admin already: give one flag")
    grove = _grove(data, config_file)
    password = _password(password_stdin)
    with _clear_errors():
        account = users.add(grove.storage_dir, name, password, admin=admin, actor="cli")
        if space_admin:
            account_roles.set_space_admin(account, True, actor="cli")
    click.echo(f"created user {name!r}" + (" with admin rights" if admin else ""))


@user.command("space-admin")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Take the role away instead.")
@_common
def user_space_admin(
    name: str, revoke: bool, data: Path | None, config_file: Path | None
) -> None:
    """Give an account the space-admin role (creating project spaces); audited."""
    _grove(data, config_file)
    with _clear_errors():
        account_roles.set_space_admin(users.get(name), not revoke, actor="cli")
    click.echo(f"{name!r} is {'no longer ' if revoke else ''}a space admin")


@user.command("list")
@_common
def user_list(data: Path | None, config_file: Path | None) -> None:
    """List accounts: name, id, role (`admin`, `space-admin` or empty), and the
    folder of their files."""
    grove = _grove(data, config_file)
    for account in users.listing():
        folder = grove.storage_dir / spaces.personal_space(account).folder
        role = "admin" if account.is_admin else ""
        role = role or ("space-admin" if account.space_admin else "")
        click.echo(f"{account.name}\t{account.id}\t{role}\t{folder}")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@_common
def user_passwd(
    name: str, password_stdin: bool, data: Path | None, config_file: Path | None
) -> None:
    """Set an account's password (signs it out everywhere at once)."""
    _grove(data, config_file)
    with _clear_errors():
        users.get(name)
    password = _password(password_stdin)
    with _clear_errors():
        users.set_password(name, password, actor="cli")
    click.echo(f"password of {name!r} changed")


@user.command("rename")
@click.argument("name")
@click.argument("new_name")
@click.option("--display-name", help="Also set the name others see.")
@_common
def user_rename(
    name: str,
    new_name: str,
    display_name: str | None,
    data: Path | None,
    config_file: Path | None,
) -> None:
    """Give an account a new login name: its id, files, folder and shares stay;
    sign-ins under the old name end."""
    _grove(data, config_file)
    with _clear_errors():
        users.update(
            users.get(name), name=new_name, display_name=display_name, actor="cli"
        )
    click.echo(f"renamed user {name!r} to {new_name!r}")


@user.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--purge", is_flag=True, help="Remove the files now instead of keeping them."
)
@_common
def user_delete(
    name: str, yes: bool, purge: bool, data: Path | None, config_file: Path | None
) -> None:
    """Delete an account: its sessions, tokens and shares end; its files are
    kept under .grove/trash/users/ for trash_retention_days (or removed now)."""
    grove = _grove(data, config_file)
    with _clear_errors():
        users.get(name)
    if not yes and sys.stdin.isatty():
        click.confirm(f"Delete user {name!r}?", abort=True)
    with _clear_errors():
        kept = users.delete(
            grove.storage_dir,
            grove.settings.state_dir,
            name,
            purge=purge,
            keep_days=grove.settings.trash_retention_days,
            actor="cli",
        )
    click.echo(f"deleted user {name!r}" + (f"; files kept in {kept}" if kept else ""))


@user.command("totp-reset")
@click.argument("name")
@_common
def user_totp_reset(name: str, data: Path | None, config_file: Path | None) -> None:
    """Switch an account's TOTP off (it can enrol again); audited."""
    _grove(data, config_file)
    with _clear_errors():
        totp.disable(users.get(name), actor="cli", detail="admin reset")
    click.echo(f"TOTP of {name!r} switched off")


@main.group()
def token() -> None:
    """Manage app tokens (for WebDAV clients and scripts)."""


@token.command("create")
@click.argument("name")
@click.option("--label", default="", help="What the token is for.")
@click.option("--expiry", help="Lifetime such as 72h, 30d or 1h30m; default: none.")
@click.option("--read-only", is_flag=True, help="The token may read, never write.")
@_common
def token_create(
    name: str,
    label: str,
    expiry: str | None,
    read_only: bool,
    data: Path | None,
    config_file: Path | None,
) -> None:
    """Create an app token for an account and print it (shown only once)."""
    _grove(data, config_file)
    with _clear_errors():
        _row, text = tokens.create(
            users.get(name),
            label=label,
            expiry_seconds=tokens.parse_expiry(expiry) if expiry else None,
            scope=READ_ONLY if read_only else FULL,
            actor="cli",
        )
    click.echo(text)


@token.command("list")
@click.argument("name")
@_common
def token_list(name: str, data: Path | None, config_file: Path | None) -> None:
    """List an account's tokens: identifier, scope, label (never the secret)."""
    _grove(data, config_file)
    with _clear_errors():
        rows = tokens.listing(users.get(name))
    for row in rows:
        click.echo(f"{row.id}\t{row.scope}\t{row.label}")


@token.command("revoke")
@click.argument("name")
@click.argument("identifier")
@_common
def token_revoke(
    name: str, identifier: str, data: Path | None, config_file: Path | None
) -> None:
    """Revoke a token by its identifier (or the token itself); at once everywhere."""
    _grove(data, config_file)
    with _clear_errors():
        tokens.revoke(users.get(name), identifier, actor="cli")
    click.echo("token revoked")


@main.group()
def keys() -> None:
    """Manage the master key that seals secrets at rest."""


@keys.command("rotate")
@_common
def keys_rotate(data: Path | None, config_file: Path | None) -> None:
    """Make a new master key and re-seal every secret under it."""
    grove = _grove(data, config_file)
    with _clear_errors():
        identifier = grove.keyring.rotate()
        changed = sealing.reseal_all(grove.keyring)
    audit.record("keys.rotate", actor="cli", detail=f"key={identifier}")
    click.echo(f"new master key {identifier}; {changed} values re-sealed")


@keys.command("prune")
@_common
def keys_prune(data: Path | None, config_file: Path | None) -> None:
    """Delete old master keys that no sealed value uses any more."""
    grove = _grove(data, config_file)
    with _clear_errors():
        removed = grove.keyring.prune(sealing.keys_in_use())
    audit.record("keys.prune", actor="cli", detail=" ".join(removed))
    click.echo(f"removed {len(removed)} unused keys")


@main.group("config")
def config_group() -> None:
    """Show the configuration schema and check a configuration."""


@config_group.command("example")
def config_example() -> None:
    """Print a config file listing every option at its default."""
    click.echo(config.example_toml(), nl=False)


@config_group.command("reference")
def config_reference() -> None:
    """Print the option table of docs/configuration.md (Markdown)."""
    click.echo(config.reference_markdown(), nl=False)


@config_group.command("check")
@_common
def config_check(data: Path | None, config_file: Path | None) -> None:
    """Check the configuration; print the effective settings, secrets masked."""
    for name, value in _settings(data, config_file).redacted().items():
        click.echo(f"{name} = {value}")


def _register() -> None:
    from app.cli_audit import audit_group
    from app.cli_index import index
    from app.cli_scan import scan

    main.add_command(scan)
    main.add_command(audit_group)
    main.add_command(index)


_register()
