"""The checksum step: the content against the checksums the client sent.

``OC-Checksum`` (and a TUS upload's ``checksum`` metadata, turned into the same
form) carries one or more ``TYPE:hex`` values separated by spaces, as ownCloud
and Nextcloud clients send them: ``SHA1:…``, ``MD5:…``, ``Adler32:…``,
``SHA256:…``, ``SHA3-256:…``. SHA1 is computed while the content streams in;
the others are computed from the staged file, in blocks, only when sent. A type
Grove does not know is passed over (logged): clients may send newer ones.
"""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from app.errors import BadRequest, ChecksumMismatch

if TYPE_CHECKING:
    from app.storage.upload import Upload

logger = logging.getLogger(__name__)

BLOCK = 1024 * 1024


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


class _Adler32:
    """zlib's Adler-32 with hashlib's update/hexdigest."""

    def __init__(self) -> None:
        self.value = 1

    def update(self, data: bytes) -> None:
        self.value = zlib.adler32(data, self.value)

    def hexdigest(self) -> str:
        return f"{self.value:08x}"


HASHERS: dict[str, Callable[[], _Hasher]] = {
    "MD5": hashlib.md5,
    "ADLER32": _Adler32,
    "SHA256": hashlib.sha256,
    "SHA3-256": hashlib.sha3_256,
}


def parse(header: str) -> list[tuple[str, str]]:
    """``[(TYPE, hex)]`` from an ``OC-Checksum`` value; BadRequest if malformed."""
    found = []
    for part in header.split():
        kind, sep, value = part.partition(":")
        value = value.strip().lower()
        if not sep or not kind or not value:
            raise BadRequest(f"not a checksum (TYPE:hex): {part!r}")
        try:
            int(value, 16)
        except ValueError:
            raise BadRequest(f"checksum {part!r} is not hexadecimal") from None
        found.append((kind.upper(), value))
    return found


def compute(path: Path, kind: str) -> str:
    """The ``kind`` checksum of the file at ``path``, read in blocks."""
    hasher = HASHERS[kind]()
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            hasher.update(block)
    return hasher.hexdigest()


def _same(kind: str, actual: str, expected: str) -> bool:
    if kind == "ADLER32":
        # The ownCloud client writes Adler-32 without leading zeros.
        return int(actual, 16) == int(expected, 16)
    return actual == expected


def verify(upload: Upload, header: str | None) -> None:
    """Refuse (ChecksumMismatch) content whose checksum differs from one sent."""
    if not header or not header.strip():
        return
    for kind, expected in parse(header):
        if kind == "SHA1":
            actual = upload.sha1
        elif kind in HASHERS:
            actual = compute(upload.path, kind)
        else:
            logger.info("checksum type %r is not known: not verified", kind)
            continue
        if not _same(kind, actual, expected):
            raise ChecksumMismatch(
                f"content {kind} {actual} does not match the checksum sent, "
                f"{expected!r}"
            )
