"""Options every ``grove`` command that opens a data folder takes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def data_and_config(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--config FILE`` and ``--data DIR`` (or GROVE_CONFIG, GROVE_DATA)."""
    command = click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path),
        envvar="GROVE_CONFIG",
        help="TOML config file (or GROVE_CONFIG).",
    )(command)
    return click.option(
        "--data",
        type=click.Path(path_type=Path),
        envvar="GROVE_DATA",
        help="Data folder (or GROVE_DATA; default ./var).",
    )(command)
