"""The indexing jobs, registered on the durable queue (app.jobs).

Each takes only JSON arguments (node ids), so a job queued by one process
runs in any worker; each reads the current state when it runs, so a job that
runs late or twice does no harm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.config import Settings
from app.search import indexer

JOBS: dict[str, Callable[..., None]] = {
    "search.index": indexer.index_node,
    "search.folders": indexer.index_folders,
    "search.remove": indexer.remove,
}


def run(job: str, settings: Settings, **kwargs: Any) -> None:
    JOBS[job](settings, **kwargs)


def _register() -> None:
    try:
        from app import jobs
    except ImportError:  # no queue in this build: service.schedule runs them here
        return
    for name, function in JOBS.items():

        def handler(
            grove: Any, _function: Callable[..., None] = function, **kw: Any
        ) -> None:
            _function(grove.settings, **kw)

        jobs.task(name)(handler)


_register()
