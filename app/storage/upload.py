"""Atomic writes: content streams into a staging file, then one rename commits it.

The staging folder is on the same filesystem as the tree, so a crash or a
failed upload leaves the previous content in place.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app import db
from app.errors import (
    BadRequest,
    ChecksumMismatch,
    InsufficientStorage,
    PreconditionFailed,
)
from app.models import Node
from app.storage import ids, ownership
from app.storage.tree import Item

logger = logging.getLogger(__name__)

STAGING_SUFFIX = ".put"


def clean_staging(folder: Path) -> int:
    """Remove the staging files of plain PUTs left behind by a crash."""
    removed = 0
    for entry in folder.glob(f"*{STAGING_SUFFIX}") if folder.is_dir() else []:
        entry.unlink(missing_ok=True)
        removed += 1
    return removed


@contextmanager
def commit_lock(state_dir: Path) -> Iterator[None]:
    """Serialise the check-then-rename of commits, across threads and workers."""
    with open(state_dir / "commit.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _disk_error(error: OSError) -> Exception:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return InsufficientStorage("no space left on the storage device")
    if error.errno == errno.ENAMETOOLONG:
        return BadRequest("the path is too long for the filesystem")
    return error


class Upload:
    """One file's content on its way in, with its SHA1 computed as it streams."""

    def __init__(self, staging_dir: Path, *, durable: bool) -> None:
        staging_dir.mkdir(parents=True, exist_ok=True)
        self.staging_dir = staging_dir
        self.path = staging_dir / f"{uuid.uuid4()}{STAGING_SUFFIX}"
        self.durable = durable
        self.size = 0
        self._sha1 = hashlib.sha1()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        # Owner, group and mode from config, on the descriptor: never the umask.
        ownership.apply_fd(self._fd, ownership.for_state_dir(staging_dir.parent))

    @property
    def sha1(self) -> str:
        return self._sha1.hexdigest()

    def write(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as error:
            raise _disk_error(error) from error
        self._sha1.update(chunk)
        self.size += len(chunk)

    def verify(self, checksum_header: str | None) -> None:
        """Check an ``OC-Checksum: SHA1:<hex>`` header; other types are ignored."""
        if not checksum_header:
            return
        kind, _, value = checksum_header.strip().partition(":")
        if kind.upper() == "SHA1" and value.lower() != self.sha1:
            raise ChecksumMismatch(
                f"content SHA1 {self.sha1} does not match OC-Checksum {value!r}"
            )

    def abort(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self.path.unlink(missing_ok=True)

    def _finish_file(
        self, node_id: str, attrs: dict[str, bytes], mtime: float | None
    ) -> None:
        try:
            if self.durable:
                os.fsync(self._fd)
        except OSError as error:
            raise _disk_error(error) from error
        finally:
            os.close(self._fd)
            self._fd = -1
        ids.copy_attrs(attrs, self.path, with_id=False)
        ids.write_id(self.path, node_id)
        if mtime is not None:
            os.utime(self.path, (mtime, mtime))

    def commit(
        self,
        folder: Item,
        name: str,
        *,
        precondition: Callable[[Item | None], None],
        mtime: float | None = None,
    ) -> Item:
        """Put the content in place as ``folder/name``.

        ``precondition`` sees the current item (or None) under the commit lock
        and raises to refuse, so two writers with If-Match cannot both win.
        """
        tree = folder.tree
        with commit_lock(self.staging_dir.parent):
            existing = tree.item(folder.parts + [name])
            precondition(existing)
            attrs = ids.grove_attrs(existing.path) if existing else {}
            node_id = existing.id if existing else ids.new_id()
            target = existing.path if existing else folder.path / name
            try:
                self._finish_file(node_id, attrs, mtime)
                os.rename(self.path, target)
            except OSError as error:
                self.abort()
                raise _disk_error(error) from error
        if self.durable:
            _fsync_dir(target.parent)
        st = os.stat(target)
        row = Node(
            id=node_id,
            space=tree.space.id,
            parent_id=folder.id,
            name=target.name,
            is_dir=False,
            inode=st.st_ino,
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            sha1=self.sha1,
            checksum_stamp=ids.content_stamp(st),
            tree_mtime_ns=time.time_ns(),
        )
        with db.write():
            Node.insert(**row.__data__).on_conflict_replace().execute()
        tree.touch(folder.lineage, st.st_size - (existing.size if existing else 0))
        return Item(tree, folder.parts + [target.name], target, row, st, folder.lineage)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def require_absent_or_match(etag: str | None) -> Callable[[Item | None], None]:
    """A precondition for If-Match (``etag``) or If-None-Match: * (``None``)."""

    def check(existing: Item | None) -> None:
        if etag is None and existing is not None:
            raise PreconditionFailed("the target exists (If-None-Match: *)")
        if etag is not None and (existing is None or etag not in ("*", existing.etag)):
            raise PreconditionFailed("the target changed since it was read (If-Match)")

    return check
