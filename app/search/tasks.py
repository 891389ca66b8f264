"""The indexing jobs, registered on the durable queue (app.jobs).

Each takes only JSON arguments (node ids), so a job queued by one process
runs in any worker; each reads the current state when it runs, so a job that
runs late or twice does no harm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app import jobs
from app.search import indexer

JOBS: dict[str, Callable[..., None]] = {
    "search.index": indexer.index_node,
    "search.folders": indexer.index_folders,
    "search.remove": indexer.remove,
    "search.remove_space": indexer.remove_space,
}


def _register() -> None:
    for name, function in JOBS.items():

        def handler(
            grove: Any, _function: Callable[..., None] = function, **kw: Any
        ) -> None:
            _function(grove.settings, **kw)

        jobs.task(name)(handler)


_register()
