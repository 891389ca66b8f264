"""Keeping the index in step with the tree: documents built from node rows.

Every change reaches the index as a job (app.search.hooks queues it after
the change is committed): ``search.index`` for items, ``search.folders`` for
folders the watcher or a scan reconciled, ``search.remove`` for deletions.
Content is extracted again only when a file's stamp (inode, size, mtime)
differs from the indexed one; a move re-indexes the metadata of everything
below (paths and ancestors decide who may see a document).
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app import rows
from app.config import Settings
from app.models import Node, Space, Tag
from app.search import service
from app.search.backend import Backend, Document
from app.search.extract import Limits, extract
from app.spaces import root_path
from app.storage import ids

logger = logging.getLogger(__name__)

# Office lock and temporary files: never worth finding.
SKIPPED = re.compile(r"(~\$.*|\.~lock\..*#|~.*\.tmp)", re.IGNORECASE)
BATCH = 200


class HasSettings(Protocol):
    settings: Settings


def skipped(name: str) -> bool:
    return bool(SKIPPED.fullmatch(name))


def limits(settings: Settings) -> Limits:
    return Limits(
        max_bytes=settings.search_extract_max_bytes,
        timeout=float(settings.search_extract_timeout_seconds),
        memory_mb=settings.search_extract_memory_mb,
    )


def mediatype(row: Node, st: os.stat_result | None) -> str:
    """The detected type while it is current, else the type its name suggests."""
    if row.is_dir:
        return "httpd/unix-directory"
    if row.mime and st is not None and row.checksum_stamp == ids.content_stamp(st):
        return str(row.mime)
    return mimetypes.guess_type(str(row.name))[0] or "application/octet-stream"


@dataclass
class Place:
    """Where a node is: its space, ancestors (root first) and path."""

    space: Space
    ancestors: list[str]
    parts: list[str]


def place_of(row: Node) -> Place | None:
    """Walk up the node rows; None when the chain is broken (being deleted)."""
    parts: list[str] = [str(row.name)]
    ancestors: list[str] = []
    parent_id = row.parent_id
    for _ in range(512):
        if parent_id is None:
            break
        parent = rows.first(Node, id=parent_id)
        if parent is None:
            return None
        ancestors.append(str(parent.id))
        if parent.parent_id is not None:
            parts.append(str(parent.name))
        parent_id = parent.parent_id
    else:
        return None
    space = rows.first(Space, id=row.space_id)
    if space is None:
        return None
    return Place(space, ancestors[::-1], parts[::-1])


def tags_of(node_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for start in range(0, len(node_ids), 500):
        chunk = node_ids[start : start + 500]
        for tag in Tag.select().where(Tag.node_id.in_(chunk)).order_by(Tag.name):
            out.setdefault(str(tag.node_id), []).append(str(tag.name))
    return out


def build(
    row: Node,
    place: Place,
    root: Path,
    *,
    indexed_stamp: str | None,
    tags: list[str],
    settings: Settings,
    read_content: bool = True,
) -> Document | None:
    """The document for one node, or None when the item is gone from disk."""
    path = root.joinpath(*place.parts)
    try:
        st = os.stat(path)
    except OSError:
        return None
    is_dir = stat.S_ISDIR(st.st_mode)
    stamp = "" if is_dir else ids.content_stamp(st)
    kind = mediatype(row, None if is_dir else st)
    content: str | None = ""
    if not is_dir:
        if stamp == indexed_stamp or not read_content:
            content = None  # unchanged: keep what was extracted
        else:
            content = extract(path, str(row.name), kind, limits(settings)) or ""
    return Document(
        node_id=str(row.id),
        space_id=str(place.space.id),
        parent_id=None if row.parent_id is None else str(row.parent_id),
        path="/".join(place.parts),
        name=str(row.name),
        is_dir=is_dir,
        size=int(row.tree_size) if is_dir else st.st_size,
        mtime=st.st_mtime,
        mediatype=kind,
        tags=tags,
        ancestors=place.ancestors,
        content=content,
        stamp=stamp if content is not None else (indexed_stamp or stamp),
    )


def index_node(settings: Settings, node_id: str) -> None:
    """Bring one item's document (and, after a move, those below it) up to date."""
    backend = service.backend(settings)
    # Compiled lookups (app/rows.py): every upload queues one of these jobs.
    row = rows.first(Node, id=node_id)
    if row is None:
        backend.delete_subtree(node_id)
        return
    if row.parent_id is None:
        return  # a space root: found as the space, not as a document
    place = place_of(row)
    if place is None:
        backend.delete_subtree(node_id)
        return
    if any(skipped(part) for part in place.parts):
        backend.delete_subtree(node_id)
        return
    stamp, before = backend.known([node_id]).get(node_id, (None, None))
    doc = build(
        row,
        place,
        root_path(settings.storage_dir, place.space),
        indexed_stamp=stamp,
        tags=tags_of([node_id]).get(node_id, []),
        settings=settings,
    )
    if doc is None:
        backend.delete_subtree(node_id)
        return
    backend.upsert([doc])
    if doc.is_dir and before is not None and before != doc.path:
        index_subtree(settings, node_id)
    backend.refresh()


def _descendants(folder_id: str) -> Iterator[Node]:
    pending = [folder_id]
    while pending:
        batch, pending = pending[:500], pending[500:]
        for row in Node.select().where(Node.parent_id.in_(batch)):
            yield row
            if row.is_dir:
                pending.append(str(row.id))


def index_rows(
    settings: Settings,
    backend: Backend,
    rows: Iterable[Node],
    place_for: Callable[[Node], Place | None],
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Index ``rows`` in batches; the number of documents written."""
    written = 0
    batch: list[Node] = []

    def flush() -> None:
        nonlocal written
        node_ids = [str(row.id) for row in batch]
        known = backend.known(node_ids)
        tags = tags_of(node_ids)
        docs: list[Document] = []
        for row in batch:
            place = place_for(row)
            if place is None or any(skipped(part) for part in place.parts):
                continue
            doc = build(
                row,
                place,
                root_path(settings.storage_dir, place.space),
                indexed_stamp=known.get(str(row.id), (None, ""))[0],
                tags=tags.get(str(row.id), []),
                settings=settings,
            )
            if doc is not None:
                docs.append(doc)
        backend.upsert(docs)
        written += len(docs)
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return written


class PlaceCache:
    """Places of many nodes of one space, each folder looked up once."""

    def __init__(self, space: Space, folders: dict[str, tuple[str | None, str]]):
        self.space = space
        self.folders = folders  # id -> (parent id, name)
        self._chains: dict[str, tuple[list[str], list[str]]] = {}

    def _chain(self, folder_id: str) -> tuple[list[str], list[str]] | None:
        """(ancestors incl. the folder, path parts of the folder)."""
        if folder_id in self._chains:
            return self._chains[folder_id]
        found = self.folders.get(folder_id)
        if found is None:
            return None
        parent_id, name = found
        if parent_id is None:
            chain: tuple[list[str], list[str]] = ([folder_id], [])
        else:
            above = self._chain(parent_id)
            if above is None:
                return None
            chain = (above[0] + [folder_id], above[1] + [name])
        self._chains[folder_id] = chain
        return chain

    def __call__(self, row: Node) -> Place | None:
        if row.parent_id is None:
            return None
        chain = self._chain(str(row.parent_id))
        if chain is None:
            return None
        return Place(self.space, chain[0], chain[1] + [str(row.name)])


def _folders_of(space: Space) -> dict[str, tuple[str | None, str]]:
    query = Node.select(Node.id, Node.parent_id, Node.name).where(
        (Node.space == space.id) & (Node.is_dir == True)  # noqa: E712
    )
    return {
        str(node_id): (parent_id, str(name))
        for node_id, parent_id, name in query.tuples().iterator()
    }


def index_subtree(settings: Settings, folder_id: str) -> None:
    """Re-index everything below a folder (after a move: paths and ancestors)."""
    backend = service.backend(settings)
    row = Node.get_or_none(Node.id == folder_id)
    if row is None:
        backend.delete_subtree(folder_id)
        return
    space = Space.get_or_none(Space.id == row.space_id)
    if space is None:
        return
    cache = PlaceCache(space, _folders_of(space))
    index_rows(settings, backend, _descendants(folder_id), cache)
    backend.refresh()


def index_folders(settings: Settings, folder_ids: list[str]) -> None:
    """After the watcher or a scan reconciled these folders: their members."""
    backend = service.backend(settings)
    for folder_id in folder_ids:
        folder = Node.get_or_none(Node.id == folder_id)
        if folder is None:
            backend.delete_subtree(folder_id)
            continue
        members = list(Node.select().where(Node.parent_id == folder_id))
        current = {str(row.id) for row in members}
        indexed = backend.children(folder_id)
        for gone in set(indexed) - current:
            backend.delete_subtree(gone)
        unchanged = _unchanged_files(settings, backend, folder, members)
        for row in members:
            if str(row.id) not in unchanged:
                index_node(settings, str(row.id))
    backend.refresh()


def _unchanged_files(
    settings: Settings, backend: Backend, folder: Node, members: list[Node]
) -> set[str]:
    """Ids of the member files whose documents have their path and content.

    The watcher reports a folder after every change in it, also Grove's own
    uploads: indexing every member again each time made 2,000 uploads into
    one folder quadratic (docs/benchmarks.md).
    """
    place = place_of(folder)
    if place is None:
        return set()
    parts = [] if folder.parent_id is None else place.parts
    root = root_path(settings.storage_dir, place.space)
    known = backend.known([str(row.id) for row in members if not row.is_dir])
    out: set[str] = set()
    for row in members:
        found = known.get(str(row.id))
        if found is None or row.is_dir:
            continue
        path = [*parts, str(row.name)]
        try:
            st = os.stat(root.joinpath(*path))
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and found == (
            ids.content_stamp(st),
            "/".join(path),
        ):
            out.add(str(row.id))
    return out


def remove(settings: Settings, node_id: str) -> None:
    """An item was deleted: forget it and everything below it."""
    if Node.get_or_none(Node.id == node_id) is None:
        service.backend(settings).delete_subtree(node_id)
        service.backend(settings).refresh()
    else:
        index_node(settings, node_id)  # it came back (restored) meanwhile


def remove_space(settings: Settings, space_id: str) -> None:
    """A space was purged: forget its documents (unless it is back)."""
    if Space.get_or_none(Space.id == space_id) is None:
        service.backend(settings).delete_space(space_id)
        service.backend(settings).refresh()


def rebuild(
    settings: Settings,
    spaces: list[Space],
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Forget and re-index whole spaces from their node rows and files."""
    backend = service.backend(settings)
    written = 0
    for space in spaces:
        backend.delete_space(str(space.id))
        cache = PlaceCache(space, _folders_of(space))
        rows = Node.select().where(Node.space == space.id).iterator()
        written += index_rows(settings, backend, rows, cache, progress=progress)
    backend.refresh()
    return written
