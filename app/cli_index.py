"""``grove index``: the search index (rebuild it from the tree)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app.cli_options import data_and_config
from app.errors import GroveError
from app.storage.scan import choose_spaces, node_count, scan_spaces


@click.group()
def index() -> None:
    """The search index (backend from the `search_backend` setting)."""


@index.command("rebuild")
@click.argument("space", required=False)
@data_and_config
def rebuild(space: str | None, data: Path | None, config_file: Path | None) -> None:
    """Rebuild the search index from the tree: all spaces, or SPACE (its id,
    folder below storage/, or name). Reconciles the database with the tree
    first (as `grove scan`), then extracts and indexes every file. Safe while
    Grove runs; searches see the space's documents again as they are indexed."""
    from app.cli import _grove
    from app.search import indexer, service

    grove = _grove(data, config_file)
    try:
        chosen = choose_spaces(space)
    except GroveError as error:
        raise click.ClickException(str(error)) from None
    for _ in scan_spaces(grove.storage_dir, chosen):
        pass
    settings = grove.settings
    try:
        with click.progressbar(
            length=max(node_count(chosen), 1),
            label="indexing",
            show_pos=True,
            file=sys.stderr,
        ) as bar:
            written = indexer.rebuild(settings, chosen, progress=bar.update)
    except GroveError as error:  # the Elasticsearch server down, for one
        raise click.ClickException(str(error)) from None
    backend = service.backend(settings)
    click.echo(
        f"indexed {written} items of {len(chosen)} space(s) "
        f"({settings.search_backend}: {backend.count()} documents in the index)"
    )
    service.reset()
