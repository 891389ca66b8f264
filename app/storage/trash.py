"""The trash of each space: deleted items wait in ``.grove/trash/<space>/<key>``.

Deleting moves the item there with one rename (same filesystem) and records a
:class:`TrashItem` row (name, original folder, time, size, who); its subtree
keeps its ids in extended attributes, so a restore brings back the same
items (shares, favourites, tags and versions follow them). Restoring renames
it back, to a free name when the original one is taken again: ``name (1)``,
``name (2)`` … before a file's extension (``report (1).pdf``). Purging
removes it for good, with the versions, favourites and tags of everything in
it. Trash counts toward the space's quota (app.quota).
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import time
from pathlib import Path

from app import db
from app.errors import Conflict, InsufficientStorage, NotFound
from app.models import Favorite, Node, Space, Tag, TrashItem
from app.search import hooks as search_hooks
from app.storage import changes, ids, versions
from app.storage.scan import Reconciler
from app.storage.tree import Item, SpaceTree
from app.storage.upload import commit_lock

logger = logging.getLogger(__name__)

FREE_NAME_TRIES = 1000


def space_dir(state_dir: Path, space_id: str) -> Path:
    return state_dir / "trash" / space_id


def path_of(state_dir: Path, row: TrashItem) -> Path:
    return space_dir(state_dir, str(row.space_id)) / str(row.id)


def _new_key(item: Item) -> str:
    """The node id, unless an earlier deletion of the same node still waits."""
    if TrashItem.get_or_none(TrashItem.id == item.id) is None:
        return item.id
    return ids.new_id()


def _rename(source: Path, target: Path) -> None:
    try:
        os.rename(source, target)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        # storage/ mounted from another filesystem than .grove/: copy, then delete.
        shutil.move(str(source), str(target))


def _disk_error(error: OSError, what: str) -> Exception:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return InsufficientStorage(f"no space left to {what}")
    return error


def _forget(item: Item) -> None:
    """Drop the rows of ``item`` and all below it: they left the tree."""
    pending = [item.id]
    with db.write():
        while pending:
            batch, pending = pending[:500], pending[500:]
            folders = Node.select(Node.id).where(
                Node.parent_id.in_(batch) & (Node.is_dir == True)  # noqa: E712
            )
            pending.extend(str(row.id) for row in folders)
            Node.delete().where(
                Node.parent_id.in_(batch) | Node.id.in_(batch)
            ).execute()


def trash(item: Item, state_dir: Path, *, actor_id: str = "") -> TrashItem:
    """Move ``item`` into its space's trash; its rows leave the node table."""
    if item.is_dir:
        changes.check_nothing_hidden(item.path)
    space = item.tree.space
    folder = space_dir(state_dir, str(space.id))
    folder.mkdir(parents=True, exist_ok=True)
    key = _new_key(item)
    try:
        _rename(item.path, folder / key)
    except OSError as error:
        raise _disk_error(error, f"delete {item.name!r}") from error
    with db.write():
        row = TrashItem.create(
            id=key,
            space=space.id,
            node_id=item.id,
            name=item.name,
            original_path="/".join(item.parts[:-1]),
            is_dir=item.is_dir,
            size=item.size,
            deleted=time.time(),
            deleted_by=actor_id,
        )
    _forget(item)
    item.tree.touch(item.ancestor_ids, -item.size)
    search_hooks.removed(item.id)
    return row


def listing(space: Space) -> list[TrashItem]:
    """The space's trash, newest first."""
    query = TrashItem.select().where(TrashItem.space == space.id)
    return list(query.order_by(TrashItem.deleted.desc()))


def get(space: Space, key: str) -> TrashItem:
    row = TrashItem.get_or_none((TrashItem.space == space.id) & (TrashItem.id == key))
    if row is None:
        raise NotFound(f"no item {key!r} in the trash")
    return row


def free_name(folder: Path, name: str, *, is_dir: bool) -> str:
    """``name``, or the first free one of ``name (1)``, ``name (2)`` … in ``folder``."""
    if not os.path.lexists(folder / name):
        return name
    stem, dot, suffix = name.rpartition(".")
    if is_dir or not dot or not stem:
        stem, dot, suffix = name, "", ""
    for counter in range(1, FREE_NAME_TRIES):
        candidate = f"{stem} ({counter}){dot}{suffix}"
        if not os.path.lexists(folder / candidate):
            return candidate
    raise Conflict(f"no free name for {name!r}")


def restore(
    tree: SpaceTree,
    state_dir: Path,
    row: TrashItem,
    *,
    folder: Item | None = None,
    name: str | None = None,
) -> Item:
    """Put a trashed item back: into ``folder`` as ``name``, by default where
    it was deleted from; a taken name becomes a free one."""
    if folder is None:
        parts = [p for p in str(row.original_path).split("/") if p]
        folder = tree.item(parts)
        if folder is None or not folder.is_dir:
            raise Conflict(f"the folder {row.original_path!r} no longer exists")
    source = path_of(state_dir, row)
    with commit_lock(state_dir):
        # Under the commit lock: no upload takes the free name in between.
        final = free_name(folder.path, name or str(row.name), is_dir=bool(row.is_dir))
        try:
            _rename(source, folder.path / final)
        except FileNotFoundError:
            raise NotFound(f"the trashed item {row.id!r} is gone from disk") from None
        except OSError as error:
            raise _disk_error(error, f"restore {final!r}") from error
        with db.write():
            TrashItem.delete().where(TrashItem.id == row.id).execute()
    # The restored subtree is registered with its ids, and sizes recomputed.
    Reconciler(tree.space, tree.root).run([(folder.id, str(folder.path))], deep=False)
    restored = tree.item(folder.parts + [final])
    if restored is None:
        raise NotFound(f"the restored item {final!r} vanished")
    search_hooks.changed(restored.id)
    return restored


def purge(state_dir: Path, row: TrashItem) -> None:
    """Remove a trashed item for good, with what Grove keeps about its nodes."""
    path = path_of(state_dir, row)
    node_ids = _ids_below(path) | {str(row.node_id)}
    with db.write():
        TrashItem.delete().where(TrashItem.id == row.id).execute()
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    forget_nodes(state_dir, str(row.space_id), node_ids)


def forget_nodes(state_dir: Path, space_id: str, node_ids: set[str]) -> None:
    """Drop the versions, favourites and tags of nodes that no longer exist."""
    chunk: list[str] = []
    for node_id in node_ids:
        chunk.append(node_id)
        if len(chunk) == 500:
            _forget_chunk(state_dir, space_id, chunk)
            chunk = []
    if chunk:
        _forget_chunk(state_dir, space_id, chunk)


def _forget_chunk(state_dir: Path, space_id: str, node_ids: list[str]) -> None:
    with db.write():
        Favorite.delete().where(Favorite.node_id.in_(node_ids)).execute()
        Tag.delete().where(Tag.node_id.in_(node_ids)).execute()
    for node_id in node_ids:
        versions.purge_node(state_dir, space_id, node_id)


def _ids_below(path: Path) -> set[str]:
    """The node ids carried by everything in a trashed folder."""
    found: set[str] = set()
    if not path.is_dir() or path.is_symlink():
        return found
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            node_id = ids.read_id(os.path.join(folder, name))
            if node_id:
                found.add(node_id)
    return found


def empty(space: Space, state_dir: Path) -> int:
    """Purge the space's whole trash; the number of items purged."""
    rows = listing(space)
    for row in rows:
        purge(state_dir, row)
    return len(rows)


def expire(state_dir: Path, older_than: float) -> int:
    """Purge every trashed item deleted before ``older_than`` (a time)."""
    count = 0
    query = TrashItem.select().where(TrashItem.deleted < older_than)
    for row in list(query.limit(10000)):
        try:
            purge(state_dir, row)
        except OSError as error:
            logger.warning("cannot purge trash item %r: %s", row.id, error)
            continue
        count += 1
    return count
