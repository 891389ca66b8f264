"""Uploads in progress that outlive a request: TUS uploads and chunked uploads.

Both kinds keep one row (``UploadSession``) and one folder,
``<state>/uploads/<session id>/``, so an upload survives a restart:

- ``tus``: one file ``data`` that PATCH requests extend; its size is the
  offset (the file is the truth, the row's ``offset`` follows it).
- ``chunked`` (Nextcloud chunking NG): one file per chunk, named as the
  client named it; the chunks are joined in the order of their names.

Nothing here touches the tree. A finished upload is streamed into an
:class:`app.storage.upload.Upload`, which commits it like a plain PUT: one
commit path, whichever door the bytes came through. Sessions expire (24 hours
without activity by default); a periodic durable job removes them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import db, jobs
from app.errors import (
    BadRequest,
    ChecksumMismatch,
    Conflict,
    Locked,
    NotFound,
    TooLarge,
)
from app.models import UploadSession
from app.storage.upload import Upload

if TYPE_CHECKING:
    from app.instance import Grove

logger = logging.getLogger(__name__)

TUS = "tus"
CHUNKED = "chunked"
LIFETIME = 24 * 3600
# No file can be larger (off_t, and the database's signed 64-bit integers).
MAX_LENGTH = 2**63 - 1
DATA = "data"
_LOCK = ".lock"
_PART = ".part"
READ_BLOCK = 1024 * 1024
# Folders of uploads whose row is gone (a crash between the two) are removed
# after this long; younger ones may belong to a session being created.
ORPHAN_AGE = 3600
# Chunk names as clients send them: numbers (NG v2: 1..10000, NG v1: zero
# padded byte offsets) or offset ranges; never a hidden or reserved name.
_CHUNK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
ALGORITHMS = ("sha1", "md5", "adler32")


def tus_session_id(token: str) -> str:
    """The row id of a TUS upload: a hash, so the database holds no usable token."""
    return "t" + hashlib.sha256(token.encode()).hexdigest()


def chunked_session_id(user_id: str, transfer: str) -> str:
    """The row id of a user's chunked upload named ``transfer`` by the client."""
    return "c" + hashlib.sha256(f"{user_id}/{transfer}".encode()).hexdigest()


def folder(staging_dir: Path, session: UploadSession) -> Path:
    return staging_dir / str(session.id)


def metadata(session: UploadSession) -> dict[str, Any]:
    value = json.loads(session.metadata or "{}")
    return value if isinstance(value, dict) else {}


def create(
    staging_dir: Path,
    *,
    kind: str,
    session_id: str,
    user_id: str,
    space_id: str | None,
    path: str,
    length: int | None,
    meta: dict[str, Any],
    lifetime: int = LIFETIME,
) -> UploadSession:
    """Make the folder and the row of a new upload."""
    if length is not None and length > MAX_LENGTH:
        raise TooLarge(f"an upload of {length} bytes is larger than any file can be")
    where = staging_dir / session_id
    try:
        where.mkdir(parents=True)
    except FileExistsError:
        raise Conflict("an upload with this name exists") from None
    if kind == TUS:
        (where / DATA).touch(mode=0o600)
    now = time.time()
    session = UploadSession(
        id=session_id,
        kind=kind,
        user=user_id,
        space=space_id,
        path=path,
        length=length,
        offset=0,
        metadata=json.dumps(meta),
        created=now,
        expires=now + lifetime,
    )
    try:
        with db.write():
            session.save(force_insert=True)
    except Exception:
        shutil.rmtree(where, ignore_errors=True)
        raise
    return session


def get(session_id: str, *, kind: str, user_id: str | None = None) -> UploadSession:
    """A live upload of ``kind`` (and ``user_id``), else NotFound."""
    session = UploadSession.get_or_none(UploadSession.id == session_id)
    if (
        session is None
        or session.kind != kind
        or (user_id is not None and session.user_id != user_id)
        or session.expires < time.time()
    ):
        raise NotFound("no such upload (finished, cancelled or expired)")
    return session


def remove(staging_dir: Path, session: UploadSession) -> None:
    """Forget an upload: its row, then its bytes."""
    with db.write():
        UploadSession.delete().where(UploadSession.id == session.id).execute()
    shutil.rmtree(folder(staging_dir, session), ignore_errors=True)


def touch(session: UploadSession, *, offset: int | None = None) -> None:
    """Record activity: the expiry moves on, and the offset when given."""
    lifetime = int(metadata(session).get("lifetime", LIFETIME))
    session.expires = time.time() + lifetime
    values: dict[Any, Any] = {UploadSession.expires: session.expires}
    if offset is not None:
        session.offset = offset
        values[UploadSession.offset] = offset
    with db.write():
        UploadSession.update(values).where(UploadSession.id == session.id).execute()


def purge_expired(staging_dir: Path, *, now: float | None = None) -> int:
    """Remove expired uploads and upload folders without a row; how many."""
    now = time.time() if now is None else now
    removed = 0
    for session in UploadSession.select().where(UploadSession.expires < now):
        logger.info("upload %s expired: removed", session.id[:12])
        remove(staging_dir, session)
        removed += 1
    known = {row.id for row in UploadSession.select(UploadSession.id)}
    for entry in staging_dir.iterdir() if staging_dir.is_dir() else []:
        if (
            entry.is_dir()
            and entry.name[:1] in ("t", "c")
            and entry.name not in known
            and now - entry.stat().st_mtime > ORPHAN_AGE
        ):
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


@jobs.task("uploads.expire")
def expire_job(grove: Grove, now: float | None = None) -> None:
    purge_expired(grove.staging_dir, now=now)


@jobs.periodic("uploads", minute="*/15")
def expire_periodically(grove: Grove) -> None:
    """Expired TUS and chunked uploads go within a quarter of an hour."""
    purge_expired(grove.staging_dir)


@contextmanager
def exclusive(staging_dir: Path, session: UploadSession) -> Iterator[None]:
    """Hold the upload for one request; a second one at the same time is Locked."""
    where = folder(staging_dir, session)
    try:
        handle = open(where / _LOCK, "a+b")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise NotFound("no such upload (finished, cancelled or expired)") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Locked("another request is writing to this upload") from None
        yield
    finally:
        handle.close()


# --- checksums ------------------------------------------------------------------


class _Adler32:
    def __init__(self) -> None:
        self.value = 1

    def update(self, data: bytes) -> None:
        self.value = zlib.adler32(data, self.value)

    def hexdigest(self) -> str:
        return f"{self.value:08x}"


def hasher(algorithm: str) -> Any:
    name = algorithm.lower()
    if name == "adler32":
        return _Adler32()
    if name in ("sha1", "md5"):
        return hashlib.new(name)
    raise BadRequest(f"checksum algorithm {algorithm!r} is not supported")


@dataclass(frozen=True)
class Checksum:
    algorithm: str
    digest: str  # lower-case hex

    def matches(self, computed: str) -> bool:
        return computed.lower() == self.digest.lower()


# --- TUS --------------------------------------------------------------------------


def tus_offset(staging_dir: Path, session: UploadSession) -> int:
    try:
        return (folder(staging_dir, session) / DATA).stat().st_size
    except FileNotFoundError:
        raise NotFound("the upload's bytes are gone") from None


def tus_append(
    staging_dir: Path,
    session: UploadSession,
    offset: int,
    body: Iterable[bytes],
    *,
    checksum: Checksum | None = None,
    durable: bool = False,
) -> int:
    """Append ``body`` at ``offset``; the new offset.

    A wrong offset is a Conflict. With a checksum the bytes of this request
    count only when they match it (ChecksumMismatch otherwise, nothing kept);
    without one, what arrived before a broken connection is kept, so the
    client resumes from there.
    """
    with exclusive(staging_dir, session):
        path = folder(staging_dir, session) / DATA
        fd = os.open(path, os.O_WRONLY)
        start = os.fstat(fd).st_size
        keep = start
        try:
            if offset != start:
                raise Conflict(f"Upload-Offset {offset} is not the offset {start}")
            digest = hasher(checksum.algorithm) if checksum else None
            length = session.length
            written = start
            os.lseek(fd, start, os.SEEK_SET)
            for chunk in body:
                if length is not None and written + len(chunk) > length:
                    raise BadRequest("the body goes past Upload-Length")
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
                written += len(chunk)
                if digest is not None:
                    digest.update(chunk)
                else:
                    keep = written
            if checksum is not None and digest is not None:
                if not checksum.matches(digest.hexdigest()):
                    raise ChecksumMismatch(
                        f"{checksum.algorithm} of the body is {digest.hexdigest()}, "
                        f"not {checksum.digest}"
                    )
            keep = written
            if durable:
                os.fsync(fd)
        finally:
            end = os.fstat(fd).st_size
            if end != keep:
                os.ftruncate(fd, keep)
            os.close(fd)
            touch(session, offset=keep)
        return keep


def tus_feed(staging_dir: Path, session: UploadSession, upload: Upload) -> None:
    """Stream a finished TUS upload's bytes into ``upload``."""
    with open(folder(staging_dir, session) / DATA, "rb") as handle:
        while block := handle.read(READ_BLOCK):
            upload.write(block)


# --- chunked (Nextcloud NG) -----------------------------------------------------


def check_chunk_name(name: str) -> str:
    if not _CHUNK_NAME.fullmatch(name):
        raise BadRequest(f"invalid chunk name {name!r}")
    return name


def store_chunk(
    staging_dir: Path,
    session: UploadSession,
    name: str,
    body: Iterable[bytes],
    *,
    durable: bool = False,
) -> int:
    """Store one chunk whole or not at all; its size."""
    check_chunk_name(name)
    where = folder(staging_dir, session)
    if not where.is_dir():
        raise NotFound("no such upload (finished, cancelled or expired)")
    part = where / f".{name}{_PART}"
    size = 0
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in body:
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
            size += len(chunk)
        if durable:
            os.fsync(fd)
        os.close(fd)
        fd = -1
        os.rename(part, where / name)
    finally:
        if fd >= 0:
            os.close(fd)
        part.unlink(missing_ok=True)
    touch(session)
    return size


def chunks(staging_dir: Path, session: UploadSession) -> list[tuple[str, int]]:
    """(name, size) of the stored chunks in the order they are joined."""
    found: list[tuple[str, int]] = []
    where = folder(staging_dir, session)
    try:
        entries = list(os.scandir(where))
    except FileNotFoundError:
        raise NotFound("no such upload (finished, cancelled or expired)") from None
    for entry in entries:
        if _CHUNK_NAME.fullmatch(entry.name) and entry.is_file():
            found.append((entry.name, entry.stat().st_size))
    numeric = all(name.isdigit() for name, _ in found)
    key: Callable[[tuple[str, int]], Any] = (
        (lambda pair: int(pair[0])) if numeric else (lambda pair: pair[0])
    )
    return sorted(found, key=key)


def remove_chunk(staging_dir: Path, session: UploadSession, name: str) -> None:
    check_chunk_name(name)
    try:
        (folder(staging_dir, session) / name).unlink()
    except FileNotFoundError:
        raise NotFound(f"no chunk {name!r}") from None


def chunked_feed(staging_dir: Path, session: UploadSession, upload: Upload) -> None:
    """Stream the chunks, in order, into ``upload``."""
    where = folder(staging_dir, session)
    for name, _size in chunks(staging_dir, session):
        with open(where / name, "rb") as handle:
            while block := handle.read(READ_BLOCK):
                upload.write(block)
