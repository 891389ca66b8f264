"""Earlier contents of files, kept in ``.grove/versions/<space>/<node>/<key>``.

Every overwrite through Grove keeps the previous content: inside the commit
lock the old file gets a second name in the versions folder (a hard link, so
readers never see the path missing) before the new content is renamed over
it, and a :class:`Version` row records it. Office lock and temporary files
(``~$*``, ``.~lock.*#``) get no versions. Restoring writes a version back
through the normal commit (the current content becoming a version in turn).
Versions do not count toward quotas; retention (app.retention) prunes them.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import peewee

from app import db
from app.errors import NotFound, PreconditionFailed
from app.models import Version
from app.storage import ids
from app.storage.tree import Item

logger = logging.getLogger(__name__)

READ_BLOCK = 1024 * 1024


def versioned(name: str) -> bool:
    """Whether overwriting a file of this name keeps a version."""
    if name.startswith("~$"):
        return False  # Microsoft Office owner files
    return not (name.startswith(".~lock.") and name.endswith("#"))  # LibreOffice


def node_dir(state_dir: Path, space_id: str, node_id: str) -> Path:
    return state_dir / "versions" / space_id / node_id


def path_of(state_dir: Path, row: Version) -> Path:
    return node_dir(state_dir, str(row.space_id), str(row.node_id)) / str(row.id)


def _keep_link(source: Path, target: Path) -> None:
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        # A filesystem without hard links: a copy takes longer, but keeps it.
        shutil.copy2(source, target)


@contextmanager
def kept(existing: Item | None, state_dir: Path) -> Iterator[None]:
    """Around the rename that overwrites ``existing``: keep its content as a
    version when the rename succeeds (call inside the commit lock)."""
    if (
        existing is None
        or existing.is_dir
        or not versioned(existing.name)
        or existing.path.is_symlink()
    ):
        yield
        return
    space_id = str(existing.tree.space.id)
    key = ids.new_id()
    folder = node_dir(state_dir, space_id, existing.id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / key
    _keep_link(existing.path, target)
    try:
        yield
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    with db.write():
        Version.create(
            id=key,
            space=space_id,
            node_id=existing.id,
            size=existing.st.st_size,
            mtime_ns=existing.st.st_mtime_ns,
            sha1=existing.sha1,
            created=time.time(),
        )


def keep_content(path: Path, item: Item, state_dir: Path, *, sha1: str) -> str:
    """Move the file at ``path`` (staged content that lost to another writer)
    into ``item``'s versions; the new version's key."""
    space_id = str(item.tree.space.id)
    key = ids.new_id()
    folder = node_dir(state_dir, space_id, item.id)
    folder.mkdir(parents=True, exist_ok=True)
    os.rename(path, folder / key)
    st = os.stat(folder / key)
    with db.write():
        Version.create(
            id=key,
            space=space_id,
            node_id=item.id,
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            sha1=sha1,
            created=time.time(),
        )
    return key


def listing(node_id: str) -> list[Version]:
    """A file's versions, newest first."""
    query = Version.select().where(Version.node_id == node_id)
    return list(query.order_by(Version.created.desc(), Version.mtime_ns.desc()))


def get(node_id: str, key: str) -> Version:
    row = Version.get_or_none((Version.node_id == node_id) & (Version.id == key))
    if row is None:
        raise NotFound(f"no version {key!r}")
    return row


def open_content(state_dir: Path, row: Version) -> Path:
    """The file holding a version's content."""
    path = path_of(state_dir, row)
    if not path.is_file():
        raise NotFound(f"version {row.id!r} is gone from disk")
    return path


def delete(state_dir: Path, row: Version) -> None:
    with db.write():
        Version.delete().where(Version.id == row.id).execute()
    path_of(state_dir, row).unlink(missing_ok=True)


def purge_node(state_dir: Path, space_id: str, node_id: str) -> None:
    """Remove every version of a node that no longer exists."""
    with db.write():
        Version.delete().where(Version.node_id == node_id).execute()
    shutil.rmtree(node_dir(state_dir, space_id, node_id), ignore_errors=True)


def expire(state_dir: Path, *, older_than: float | None, max_count: int) -> int:
    """Remove versions made before ``older_than`` and, per file, all but the
    newest ``max_count`` (0: no limit); the number removed."""
    doomed: list[Version] = []
    if older_than is not None:
        query = Version.select().where(Version.created < older_than)
        doomed.extend(query.limit(10000))
    if max_count > 0:
        crowded = (
            Version.select(Version.node_id)
            .group_by(Version.node_id)
            .having(peewee.fn.COUNT(Version.id) > max_count)
        )
        for node in crowded.limit(10000):
            doomed.extend(listing(str(node.node_id))[max_count:])
    seen: set[str] = set()
    for row in doomed:
        if row.id in seen:
            continue
        seen.add(str(row.id))
        try:
            delete(state_dir, row)
        except OSError as error:
            logger.warning("cannot remove version %r: %s", row.id, error)
    return len(seen)


def restore(item: Item, row: Version, state_dir: Path, *, durable: bool) -> Item:
    """Make a version the file's content again, through the normal commit (so
    the current content becomes a version); the restored version is removed."""
    from app.storage.upload import Upload  # upload keeps versions: import late

    folder = item.tree.item(item.parts[:-1])
    if folder is None:
        raise NotFound(f"the folder of {item.name!r} is gone")

    def same_file(existing: Item | None) -> None:
        if existing is None or existing.id != item.id:
            raise PreconditionFailed(f"{item.name!r} was replaced meanwhile")

    upload = Upload(state_dir / "uploads", durable=durable)
    try:
        with open(open_content(state_dir, row), "rb") as source:
            while chunk := source.read(READ_BLOCK):
                upload.write(chunk)
        restored = upload.commit(
            folder, item.name, precondition=same_file, mtime=row.mtime_ns / 1e9
        )
    finally:
        upload.abort()
    delete(state_dir, row)
    return restored
