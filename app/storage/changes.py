"""Changes to the tree made through Grove: folders, deletes, moves and copies.

Each keeps the node table and the folder ETags up to the space root in step.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from app import db, quota
from app.errors import BadRequest, Conflict, InsufficientStorage
from app.models import Node
from app.pipeline import Origin
from app.search import hooks as search_hooks
from app.storage import clone, ids, ownership, props
from app.storage.names import is_text
from app.storage.tree import Item
from app.storage.upload import Upload

COPY_BLOCK = 1024 * 1024


def _storage_error(error: OSError, what: str) -> Exception:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return InsufficientStorage(f"no space left to {what}")
    if error.errno == errno.EEXIST:
        return Conflict(f"cannot {what}: the target exists")
    if error.errno == errno.ENAMETOOLONG:
        return BadRequest(f"cannot {what}: the path is too long for the filesystem")
    return error


def _hidden_entry(folder: Path) -> str | None:
    """The first entry below ``folder`` that listings do not show, if any.

    Grove lists only folders and regular files with UTF-8 names; deleting a
    folder must not silently destroy anything else that another program keeps
    there. Symlinks pass: removing one leaves what it points to.
    """
    pending = [folder]
    while pending:
        current = pending.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                if not is_text(entry.name):
                    return os.fsdecode(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif not (entry.is_file(follow_symlinks=False) or entry.is_symlink()):
                    return entry.path
    return None


def _state_dir(item: Item) -> Path:
    """<data>/.grove for an item of a space under <data>/storage/<kind>/<name>."""
    return item.tree.root.parents[2] / ".grove"


def make_folder(parent: Item, name: str) -> Item:
    path = parent.path / name
    try:
        os.mkdir(path)
    except OSError as error:
        raise _storage_error(error, f"create folder {name!r}") from error
    policy = ownership.for_state_dir(_state_dir(parent))
    ownership.apply_path(path, policy, folder=True)
    item = parent.tree.item(parent.parts + [name])
    assert item is not None
    parent.tree.touch(parent.lineage)
    search_hooks.changed(item.id)
    return item


def check_nothing_hidden(folder: Path) -> None:
    """Refuse to delete ``folder`` while it holds what Grove does not show:
    not destroyed unseen now, nor when the trash is purged later."""
    hidden = _hidden_entry(folder)
    if hidden is not None:
        relative = os.path.relpath(hidden, folder)
        raise Conflict(
            f"the folder holds {relative!r}, which Grove does not show; "
            "remove it on the server first"
        )


def delete(item: Item) -> None:
    """Remove a file or a whole folder from disk and from the node table."""
    if item.is_dir:
        check_nothing_hidden(item.path)
        shutil.rmtree(item.path)
        _forget_subtree(item.id)
    else:
        item.path.unlink()
        with db.write():
            Node.delete().where(Node.id == item.id).execute()
    item.tree.touch(item.ancestor_ids, -item.size)
    search_hooks.removed(item.id)


def _forget_subtree(folder_id: str) -> None:
    pending = [folder_id]
    with db.write():
        while pending:
            batch, pending = pending[:500], pending[500:]
            children = Node.select(Node.id).where(
                Node.parent_id.in_(batch) & (Node.is_dir == True)  # noqa: E712
            )
            pending.extend(row.id for row in children)
            Node.delete().where(
                Node.parent_id.in_(batch) | Node.id.in_(batch)
            ).execute()


def move(item: Item, folder: Item, name: str) -> Item:
    """Rename ``item`` to ``folder/name``: one rename, one row, whatever its size."""
    target = folder.path / name
    if folder.tree.space.id != item.tree.space.id:
        quota.check(folder.tree.space, item.size)
    try:
        if item.path.is_symlink():
            _move_link(item.path, target)
        else:
            os.rename(item.path, target)
    except OSError as error:
        raise _storage_error(error, f"move to {name!r}") from error
    with db.write():
        Node.update(parent_id=folder.id, name=name, space=folder.tree.space.id).where(
            Node.id == item.id
        ).execute()
    item.tree.touch(item.ancestor_ids, -item.size)
    folder.tree.touch(folder.lineage, item.size)
    moved = folder.tree.item(folder.parts + [name])
    assert moved is not None
    search_hooks.changed(moved.id)  # a folder's job re-indexes what is below
    return moved


def _move_link(link: Path, target: Path) -> None:
    """Move a symlink so that it still leads to its file (a plain rename would
    leave a relative link pointing elsewhere)."""
    pointing = os.path.relpath(os.path.realpath(link), target.parent)
    temp = target.parent / f".grove-link-{ids.new_id()}"
    os.symlink(pointing, temp)
    try:
        os.rename(temp, target)
    except OSError:
        temp.unlink(missing_ok=True)
        raise
    link.unlink()


def copy_file(item: Item, folder: Item, name: str, staging: Path) -> Item:
    """Copy one file's content and dead properties; the copy gets a new id."""
    quota.check(folder.tree.space, item.size)
    temp = staging / f"copy-{ids.new_id()}.put"
    try:
        clone.clone(item.path, temp)  # in the kernel: reflink or copy_file_range
        shutil.copystat(item.path, temp)
        policy = ownership.for_state_dir(staging.parent)
        ownership.apply_path(temp, policy, folder=False)
        ids.copy_attrs(ids.grove_attrs(item.path), temp, with_id=False)
        node_id = ids.new_id()
        ids.write_id(temp, node_id)
        os.rename(temp, folder.path / name)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise _storage_error(error, f"copy to {name!r}") from error
    copied = folder.tree.item(folder.parts + [name])
    assert copied is not None
    props.copy(item.path, item.id, copied.path, copied.id)
    if item.sha1:
        with db.write():
            Node.update(
                sha1=item.sha1, checksum_stamp=ids.content_stamp(copied.st)
            ).where(Node.id == copied.id).execute()
    folder.tree.touch(folder.lineage, copied.size)
    search_hooks.changed(copied.id)
    return copied


def copy_over(
    item: Item,
    existing: Item,
    staging: Path,
    *,
    durable: bool,
    origin: Origin | None = None,
) -> Item:
    """Copy a file's content onto another file, as any overwrite: the target
    keeps its id and its previous content becomes a version (app.storage.versions);
    the content passes the upload pipeline like every write."""
    folder = existing.tree.item(existing.parts[:-1])
    if folder is None:
        raise Conflict(f"the folder of {existing.name!r} is gone")

    def same_file(current: Item | None) -> None:
        if current is None or current.id != existing.id:
            raise Conflict(f"{existing.name!r} was replaced meanwhile")

    upload = Upload(staging, durable=durable)
    try:
        with open(item.path, "rb") as source:
            while chunk := source.read(COPY_BLOCK):
                upload.write(chunk)
        return upload.commit(
            folder,
            existing.name,
            precondition=same_file,
            mtime=item.st.st_mtime,
            origin=origin,
        )
    finally:
        upload.abort()


def copy_folder_shell(item: Item, folder: Item, name: str) -> Item:
    """Create the folder of a folder copy, with the source's dead properties."""
    copied = make_folder(folder, name)
    props.copy(item.path, item.id, copied.path, copied.id)
    return copied


# Modification times Grove sets: from the epoch up to the last second whose
# nanoseconds fit the database's 64-bit integers (the year 2262).
MTIME_MAX = (2**63 - 1) // 10**9


def check_mtime(mtime: float) -> float:
    """Refuse a modification time a client asks for that the tree cannot keep."""
    if not 0 <= mtime <= MTIME_MAX:
        raise BadRequest(f"modification time out of range: {mtime!r}")
    return mtime


def set_mtime(item: Item, mtime: float) -> None:
    """Set a file's mtime; the content is unchanged, so its checksum stays valid."""
    check_mtime(mtime)
    os.utime(item.path, (mtime, mtime))
    still_valid = item.sha1 is not None
    item.st = os.stat(item.path)
    with db.write():
        Node.update(
            mtime_ns=item.st.st_mtime_ns,
            checksum_stamp=ids.content_stamp(item.st) if still_valid else None,
        ).where(Node.id == item.id).execute()
    item.tree.touch(item.ancestor_ids)
    search_hooks.changed(item.id)
