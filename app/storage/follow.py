"""What follows a change another program made in the tree.

The watcher and ``grove scan`` find such changes (app/storage/scan.py) and
bring the node table in step at once; the rest is slower and runs as one
durable job per batch (``posix.follow``): the SHA1 checksum and the content's
MIME type of new and rewritten files (until then no checksum is served, so no
client rejects a download), a malware scan when ``external_scan`` asks for
one, and the audit trail. Search indexing follows through its own hooks.

Office lock and temporary files (``~$*``, ``.~lock.*#``) and editors' swap
files get no checksum job and no audit event: editors write them by the
hundred.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import audit, db, jobs, pipeline
from app.models import Node, Space
from app.pipeline import mime, scanners
from app.storage import ids, lookup
from app.storage.versions import versioned

if TYPE_CHECKING:
    from app.config import Settings
    from app.instance import Grove

logger = logging.getLogger(__name__)

JOB = "posix.follow"
BATCH = 200  # ids per job
READ = 1 << 20
EXTERNAL = "changed on disk by another program"
# vim's swap files and write test, emacs' lock and backup files.
SWAP_PATTERNS = (".*.sw[a-p]", ".*.swx", "4913", ".#*", "*~")


def transient(name: str) -> bool:
    """Whether ``name`` is an editor's lock, swap or temporary file."""
    if not versioned(name):
        return True
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in SWAP_PATTERNS)


@dataclass
class Changes:
    """What one reconcile of a space found, by node id (removed: by path)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.created or self.updated or self.moved or self.removed)


def queue(space_id: str, changes: Changes) -> None:
    """Queue the follow-up of ``changes`` in batches; never raises."""
    kinds = ("created", "updated", "moved", "removed")
    for kind in kinds:
        values: list[str] = getattr(changes, kind)
        for start in range(0, len(values), BATCH):
            payload: dict[str, Any] = {k: [] for k in kinds}
            payload[kind] = values[start : start + BATCH]
            try:
                jobs.enqueue(JOB, space_id=space_id, **payload)
            except RuntimeError:  # no queue in this process (a bare library use)
                logger.debug("no job queue: external changes not followed up")
                return


@jobs.task(JOB)
def _follow(grove: Grove, **payload: Any) -> None:
    follow(grove.settings, **payload)


def follow(
    settings: Settings,
    *,
    space_id: str,
    created: list[str],
    updated: list[str],
    moved: list[str],
    removed: list[str],
) -> None:
    """The follow-up of one batch (see the module docstring)."""
    space = Space.get_or_none(Space.id == space_id)
    if space is None:
        return
    root = settings.storage_dir / space.folder
    for target in removed:
        _record("file.delete", target)
    for node_id in moved:
        found = _path(node_id, root)
        if found is not None:
            _record("file.move", _target(space, found[1]))
    for action, node_ids in (("file.create", created), ("file.update", updated)):
        for node_id in node_ids:
            found = _path(node_id, root)
            if found is None:
                continue  # gone again (a temporary file renamed away)
            path, parts = found
            if transient(path.name):
                continue
            if path.is_dir():
                _record("folder.create", _target(space, parts))
                continue
            _record(action, _target(space, parts))
            _content(settings, node_id, path, _target(space, parts))


def _path(node_id: str, root: Path) -> tuple[Path, list[str]] | None:
    found = lookup.parts_of(node_id)
    if found is None:
        return None
    parts = found[1]
    return root.joinpath(*parts), parts


def _target(space: Space, parts: list[str]) -> str:
    return f"/{space.id}/{'/'.join(parts)}"


def _record(action: str, target: str) -> None:
    audit.record(action, actor="", target=target, detail=EXTERNAL)


def _content(settings: Settings, node_id: str, path: Path, target: str) -> None:
    """Checksum, type and (when configured) scan of one file, if it holds still."""
    try:
        before = path.stat()
        if not path.is_file() or ids.read_id(path) != node_id:
            return
        digest = _sha1(path)
        kind = mime.decide(mime.detect(path), path.name).reported
        after = path.stat()
    except OSError as error:
        logger.info("cannot read %r for its checksum: %s", str(path), error)
        return
    stamp = ids.content_stamp(after)
    if ids.content_stamp(before) != stamp:
        return  # still being written: the next batch sees it again
    if _infected(settings, path, after.st_size, target):
        return
    with db.write():
        Node.update(sha1=digest, mime=kind, checksum_stamp=stamp).where(
            Node.id == node_id
        ).execute()


def _sha1(path: Path) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(READ):
            digest.update(chunk)
    return digest.hexdigest()


def _infected(settings: Settings, path: Path, size: int, target: str) -> bool:
    """Scan per ``external_scan``; an infected file is reported or quarantined."""
    if settings.external_scan == "off" or size == 0:
        return False
    scanner = pipeline.for_state_dir(settings.state_dir).scanner
    if isinstance(scanner, scanners.NoScanner):
        return False
    if size > settings.scan_max_bytes:
        audit.record("file_scan", target=target, outcome="over_limit", detail=EXTERNAL)
        return False
    try:
        result = scanner.scan(path, size)
    except scanners.ScannerError as error:
        logger.warning("%s: %r not scanned: %s", scanner.name, target, error)
        audit.record("file_scan", target=target, outcome="unreachable", detail=EXTERNAL)
        raise  # the job is retried later
    if not result.infected:
        return False
    if settings.external_scan == "report":
        logger.warning(
            "%r written by another program is infected: %s", target, result.finding
        )
        audit.record(
            "file_scan", target=target, outcome="infected", detail=result.finding
        )
        return True
    moved_to = _quarantine(settings, path)
    logger.warning(
        "%r written by another program is infected (%s): moved to %s",
        target,
        result.finding,
        moved_to,
    )
    audit.record(
        "file_scan",
        target=target,
        outcome="infected",
        detail=f"{result.finding}; quarantined as {moved_to.name}",
    )
    return True


def _quarantine(settings: Settings, path: Path) -> Path:
    """Move ``path`` out of the tree into ``.grove/quarantine/`` (owner only)."""
    folder = settings.state_dir / "quarantine"
    folder.mkdir(mode=0o700, exist_ok=True)
    moved_to = folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{path.name}"
    shutil.move(path, moved_to)
    moved_to.chmod(0o600)
    return moved_to
