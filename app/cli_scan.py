"""``grove scan``: reconcile the database with the tree after downtime."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app.cli_options import data_and_config
from app.errors import GroveError
from app.storage.scan import choose_spaces, node_count, scan_spaces


@click.command()
@click.argument("space", required=False)
@data_and_config
def scan(space: str | None, data: Path | None, config_file: Path | None) -> None:
    """Reconcile the database with the tree on disk: all spaces, or SPACE (its
    id, its folder below storage/, or its name). Safe while Grove runs."""
    from app.cli import _grove

    grove = _grove(data, config_file)
    try:
        chosen = choose_spaces(space)
    except GroveError as error:
        raise click.ClickException(str(error)) from None
    done = 0
    with click.progressbar(
        length=max(node_count(chosen), 1),
        label="scanning",
        show_pos=True,
        file=sys.stderr,
    ) as bar:

        def progress(walked: int) -> None:
            bar.length = max(bar.length or 0, done + walked)
            bar.update(done + walked - bar.pos)

        results = []
        for item, result in scan_spaces(grove.storage_dir, chosen, progress=progress):
            done += result.walked
            results.append((item, result))
    for item, result in results:
        click.echo(f"{item.folder}: {result.summary()}")
