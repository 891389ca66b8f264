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

from app import audit, db, pipeline, rows
from app.errors import (
    BadRequest,
    InsufficientStorage,
    PreconditionFailed,
    TooLarge,
)
from app.models import Node
from app.search import hooks as search_hooks
from app.storage import ids, ownership, versions
from app.storage.tree import Item, SpaceTree, touch_rows

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
        # The steps every door's content passes at commit (app/pipeline).
        self.pipeline = pipeline.for_state_dir(staging_dir.parent)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        # Owner, group and mode from config, on the descriptor: never the umask.
        ownership.apply_fd(self._fd, ownership.for_state_dir(staging_dir.parent))
        # When the upload began, on the filesystem's own (coarse) clock, which
        # also stamps another program's writes: see changed_on_disk_since.
        self.started_ns = os.fstat(self._fd).st_ctime_ns

    @property
    def sha1(self) -> str:
        return self._sha1.hexdigest()

    def write(self, chunk: bytes) -> None:
        limit = self.pipeline.max_bytes
        if limit and self.size + len(chunk) > limit:
            # Refused as it streams: an undeclared length cannot fill the disk.
            raise TooLarge(f"the file is larger than the upload limit of {limit} bytes")
        view = memoryview(chunk)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as error:
            raise _disk_error(error) from error
        self._sha1.update(chunk)
        self.size += len(chunk)

    def abort(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self.path.unlink(missing_ok=True)

    def _flush(self) -> None:
        """Close the content, on disk first when durable.

        Called before the commit lock is taken: concurrent uploads flush in
        parallel, and the filesystem commits their journal entries together.
        """
        if self._fd < 0:
            return
        try:
            if self.durable:
                os.fsync(self._fd)
        except OSError as error:
            raise _disk_error(error) from error
        finally:
            os.close(self._fd)
            self._fd = -1

    def _finish_file(
        self, node_id: str, attrs: dict[str, bytes], mtime: float | None
    ) -> None:
        self._flush()
        ids.copy_attrs(attrs, self.path, with_id=False)
        ids.write_id(self.path, node_id)
        if mtime is not None:
            os.utime(self.path, (mtime, mtime))

    def _lost_to_another_program(self, existing: Item) -> bool:
        return versions.versioned(existing.name) and changed_on_disk_since(
            existing, self.started_ns
        )

    def _keep_as_version(self, existing: Item, job: pipeline.Job) -> None:
        """Another program wrote the file while this upload streamed in: its
        write is newer than what the client started from, so it stays, and
        the upload is kept as a version instead of being lost."""
        self._flush()
        key = versions.keep_content(
            self.path, existing, self.staging_dir.parent, sha1=self.sha1
        )
        audit.record(
            "file_update",
            actor=job.origin.actor,
            address=job.origin.address,
            target=job.target,
            outcome="conflict",
            detail=f"changed on disk during the upload; kept as version {key}",
        )
        raise PreconditionFailed(
            f"{existing.name!r} was changed on disk by another program while this "
            f"upload was in progress: that content stays, and the upload is kept "
            f"as version {key}"
        )

    def commit(
        self,
        folder: Item,
        name: str,
        *,
        precondition: Callable[[Item | None], None],
        mtime: float | None = None,
        origin: pipeline.Origin | None = None,
    ) -> Item:
        """Run the pipeline on the content, then put it in place as ``folder/name``.

        Every door commits through here, so every upload passes the same steps
        (policy, checksum, MIME type, malware scan); a refusal raises before
        anything reaches the tree. ``origin`` names the sender for the audit
        trail and carries the checksum header to verify.

        ``precondition`` sees the current item (or None) under the commit lock
        and raises to refuse, so two writers with If-Match cannot both win.
        """
        tree = folder.tree
        job = self.pipeline.run(self, folder, name, origin or pipeline.Origin())
        self._flush()
        with commit_lock(self.staging_dir.parent):
            existing = tree.item(folder.parts + [name])
            precondition(existing)
            if existing is not None and self._lost_to_another_program(existing):
                self._keep_as_version(existing, job)
            # Under the commit lock: two uploads cannot both take the last room.
            growth = self.size - (existing.size if existing else 0)
            self.pipeline.check_quota(tree.space, growth, job.origin, job.target)
            attrs = ids.grove_attrs(existing.path) if existing else {}
            node_id = existing.id if existing else ids.new_id()
            target = existing.path if existing else folder.path / name
            try:
                self._finish_file(node_id, attrs, mtime)
                # The content it replaces stays as a version (app.storage.versions).
                with versions.kept(existing, self.staging_dir.parent):
                    os.rename(self.path, target)
            except OSError as error:
                self.abort()
                raise _disk_error(error) from error
            # Recorded before the lock is released: the next upload of this file
            # must find Grove's own content recorded, or it would take it for
            # another program's write (see changed_on_disk_since).
            row, st = self._record(tree, folder, node_id, target, existing, job)
        if self.durable:
            _fsync_dir(target.parent)
        search_hooks.changed(node_id)  # indexed after the commit, as a job
        return Item(tree, folder.parts + [target.name], target, row, st, folder.lineage)

    def _record(
        self,
        tree: SpaceTree,
        folder: Item,
        node_id: str,
        target: Path,
        existing: Item | None,
        job: pipeline.Job,
    ) -> tuple[Node, os.stat_result]:
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
            mime=job.mime,
        )
        with db.write():
            # One transaction; both statements compiled once (app/rows.py).
            rows.replace(row)
            touch_rows(folder.lineage, st.st_size - (existing.size if existing else 0))
        return row, st


def changed_on_disk_since(item: Item, since_ns: int) -> bool:
    """Whether another program wrote ``item`` after ``since_ns``: its content is
    not what Grove recorded (Grove's own commits record it, and so does the
    job that follows external writes) and it was written, or put in place by
    a rename, after that moment. The filesystem's clock is coarse (a few
    milliseconds): a write in the same tick as the upload's start counts as
    before it, so the upload wins and that content is kept as a version."""
    if item.is_dir or item.row.checksum_stamp == ids.content_stamp(item.st):
        return False
    return max(item.st.st_mtime_ns, item.st.st_ctime_ns) > since_ns


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
