"""``grove audit``: verify the hash chain of the audit trail, export it."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import click

from app import audit
from app.cli_options import data_and_config


def _since(value: str | None) -> float | None:
    """Seconds since the epoch from ``2026-12-01``, ``2026-12-01T10:00:00Z`` or
    a plain number of seconds."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            "expected a date such as 2026-12-01 or 2026-12-01T10:00:00Z"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()


def _anchor(value: str | None) -> tuple[int, str] | None:
    if not value:
        return None
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise click.BadParameter("expected SEQ:HASH as verify printed it")
    return int(seq), digest


@click.group("audit")
def audit_group() -> None:
    """The audit trail: verify its hash chain, export it."""


@audit_group.command("verify")
@click.option(
    "--anchor",
    help="SEQ:HASH printed by an earlier verify: also detects records removed "
    "from the end of the chain.",
)
@data_and_config
def verify(anchor: str | None, data: Path | None, config_file: Path | None) -> None:
    """Check every record against the chain; name each edited or removed one.

    Exits 1 when the chain is broken."""
    from app.cli import _grove

    _grove(data, config_file)
    result = audit.verify(_anchor(anchor))
    for problem in result.problems:
        click.echo(f"BROKEN: {problem}")
    click.echo(
        f"{result.checked} records checked, {result.queued} still queued; "
        f"head {result.head_seq}:{result.head_hash}"
    )
    if not result.ok:
        sys.exit(1)
    click.echo("the audit chain is intact")


@audit_group.command("export")
@click.option("--since", help="Only records from this time on (ISO date or epoch).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl"]),
    default="jsonl",
    show_default=True,
    help="One JSON object per line.",
)
@data_and_config
def export(
    since: str | None, fmt: str, data: Path | None, config_file: Path | None
) -> None:
    """Print the audit records in chain order, each with its hashes."""
    from app.cli import _grove

    _grove(data, config_file)
    for line in audit.export_jsonl(_since(since)):
        click.echo(line)
