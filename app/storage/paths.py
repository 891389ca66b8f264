"""The one path-safety function: every door maps network paths through here.

A path from the network is split into names, each checked; the result is
proved to stay inside the space root, symlinks included.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

from app.errors import BadRequest, NotFound
from app.storage.names import is_text, spellings

# An encoded slash can never name anything: a name holds no slash, and servers
# disagree on whether to decode it (cheroot keeps it, gunicorn decodes it).
_ENCODED_SLASH = re.compile("%2f", re.IGNORECASE)


def check_url_path(raw: str) -> None:
    """Refuse a URL path, as the client sent it (still percent-encoded), that
    holds dot segments, encoded slashes, NUL bytes or bytes that are not UTF-8.

    Every door checks the request target and any Destination here, before a
    library could resolve ``..`` on its own.
    """
    path = urlsplit(raw).path if "://" in raw else raw.partition("?")[0]
    if _ENCODED_SLASH.search(path):
        raise BadRequest(f"encoded slash refused in {path!r}")
    for segment in path.split("/"):
        decoded = unquote_to_bytes(segment)
        if decoded in (b".", b"..") or b"\x00" in decoded:
            raise BadRequest(f"path traversal refused in {path!r}")
    try:
        unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"path is not UTF-8: {path!r}") from None


def check_destination(value: str) -> None:
    """Refuse a Destination header as :func:`check_url_path` does, and refuse
    tabs and line breaks in it.

    WsgiDAV unquotes a Destination before parsing it as a URL, and URL parsing
    drops tabs and line breaks, so ``a%09b`` would arrive as ``ab``.
    """
    check_url_path(value)
    decoded = unquote_to_bytes(value)
    if any(char in decoded for char in b"\t\r\n"):
        raise BadRequest(f"tab or line break in Destination {value!r}")


def split_path(path: str) -> list[str]:
    """Split a decoded URL path into names, refusing traversal and NUL bytes."""
    parts = [part for part in path.split("/") if part]
    for part in parts:
        if part in (".", "..") or "\x00" in part:
            raise BadRequest(f"path traversal refused in {path!r}")
    return parts


def _inside(root_real: str, candidate: str) -> bool:
    return candidate == root_real or candidate.startswith(root_real + os.sep)


def _lookup(folder: Path, name: str) -> tuple[Path, os.stat_result] | None:
    for spelling in spellings(name):
        candidate = folder / spelling
        try:
            return candidate, os.lstat(candidate)
        except OSError as error:
            # A name over NAME_MAX cannot exist, so it is simply not found.
            if error.errno in (errno.ENOENT, errno.ENAMETOOLONG):
                continue
            if error.errno == errno.ENOTDIR:
                return None
            raise
    return None


def followable(root: Path, link: Path) -> bool:
    """True when the symlink ``link`` leads to a regular file inside ``root``.

    Symlinks to folders are never followed, even inside the space: they could
    loop or alias a subtree, and every walk (listings, Depth: infinity, COPY)
    would have to guard against that. Links that leave the space, dangle or
    name anything else are treated as absent.
    """
    target = os.path.realpath(link)
    if not _inside(os.path.realpath(root), target):
        return False
    try:
        return stat.S_ISREG(os.stat(target).st_mode)
    except OSError:
        return False


def resolve(root: Path, parts: list[str]) -> tuple[Path, bool]:
    """The filesystem path for ``parts`` below ``root`` and whether it exists.

    Each name is looked up exactly, then in NFC and NFD spelling. A symlink is
    followed only when it is the last name and leads to a file inside the
    root (see :func:`followable`); any other symlink raises NotFound, so that
    nothing is read or written through it.
    """
    current = Path(root)
    for index, name in enumerate(parts):
        found = _lookup(current, name)
        if found is None:
            return current.joinpath(*parts[index:]), False
        current, st = found
        if stat.S_ISLNK(st.st_mode) and not (
            index == len(parts) - 1 and followable(root, current)
        ):
            raise NotFound(f"{'/'.join(parts)!r} is a symlink Grove does not follow")
    return current, True


def entry_stat(root: Path, entry: os.DirEntry[str]) -> os.stat_result | None:
    """The stat of a folder entry Grove shows, or None for one it leaves alone.

    Folders and regular files with UTF-8 names are shown; a symlink only when
    :func:`followable` (then with its target's stat); FIFOs, sockets and
    devices never.
    """
    if not is_text(entry.name):
        return None
    try:
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            if not followable(root, Path(entry.path)):
                return None
            st = os.stat(entry.path)
    except OSError:
        return None
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        return None
    return st
