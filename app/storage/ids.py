"""Stable ids in extended attributes, and the ETags derived from them."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

ID_ATTR = "user.grove.id"
ATTR_PREFIX = "user.grove."


def new_id() -> str:
    return str(uuid.uuid4())


def read_id(path: Path | str) -> str | None:
    try:
        return os.getxattr(path, ID_ATTR).decode("ascii")
    except (OSError, UnicodeDecodeError):
        return None


def write_id(path: Path | str, node_id: str) -> None:
    os.setxattr(path, ID_ATTR, node_id.encode("ascii"))


def grove_attrs(path: Path | str) -> dict[str, bytes]:
    """All of Grove's extended attributes of a file (id and dead properties)."""
    out = {}
    try:
        names = os.listxattr(path)
    except OSError:
        return {}
    for name in names:
        if name.startswith(ATTR_PREFIX):
            try:
                out[name] = os.getxattr(path, name)
            except OSError:
                continue
    return out


def copy_attrs(attrs: dict[str, bytes], target: Path | str, *, with_id: bool) -> None:
    for name, value in attrs.items():
        if name == ID_ATTR and not with_id:
            continue
        os.setxattr(target, name, value)


def file_etag(node_id: str, st: os.stat_result) -> str:
    """Strong ETag, unquoted: commits are renames, so new content has a new inode."""
    key = f"{node_id}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def folder_etag(node_id: str, tree_mtime_ns: int, st: os.stat_result) -> str:
    """Changes when anything below changes (tree mtime) or the folder itself does."""
    key = f"{node_id}:{tree_mtime_ns}:{st.st_mtime_ns}"
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def content_stamp(st: os.stat_result) -> str:
    """What a stored checksum is valid for: the same inode, size and mtime."""
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
