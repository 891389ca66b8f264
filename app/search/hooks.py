"""What storage code calls after a change is committed: queue the indexing.

Kept free of heavy imports (the search backends load only when a job runs).
"""

from __future__ import annotations

from collections.abc import Iterable


def changed(node_id: str) -> None:
    """A file or folder was created, written, renamed, moved or copied."""
    from app.search import service

    service.schedule("search.index", node_id=node_id)


def removed(node_id: str) -> None:
    """A file or folder (and all below it) is gone."""
    from app.search import service

    service.schedule("search.remove", node_id=node_id)


def folders_changed(folder_ids: Iterable[str]) -> None:
    """The watcher or a scan changed members of these folders."""
    from app.search import service

    wanted = sorted({f for f in folder_ids if f and f != "None"})
    for start in range(0, len(wanted), 200):
        service.schedule("search.folders", folder_ids=wanted[start : start + 200])


def space_removed(space_id: str) -> None:
    """A space and everything in it is gone (purged, or its user deleted)."""
    from app.search import service

    service.schedule("search.remove_space", space_id=space_id)
