"""The one path-safety function: every door maps network paths through here.

A path from the network is split into names, each checked; the result is
proved to stay inside the space root, symlinks included.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from app.errors import BadRequest, NotFound
from app.storage.names import spellings


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
        except FileNotFoundError:
            continue
        except NotADirectoryError:
            return None
    return None


def resolve(root: Path, parts: list[str]) -> tuple[Path, bool]:
    """The filesystem path for ``parts`` below ``root`` and whether it exists.

    Each name is looked up exactly, then in NFC and NFD spelling. A symlink is
    followed only when its target stays inside the root; otherwise the path is
    reported as not found.
    """
    root_real = os.path.realpath(root)
    current = Path(root)
    for index, name in enumerate(parts):
        found = _lookup(current, name)
        if found is None:
            return current.joinpath(*parts[index:]), False
        current, st = found
        if stat.S_ISLNK(st.st_mode) and not _inside(root_real, os.path.realpath(current)):
            raise NotFound(f"{'/'.join(parts)!r} leaves its space")
    return current, True


def contained(root: Path, path: Path) -> bool:
    """True when ``path`` (resolved through symlinks) lies inside ``root``."""
    return _inside(os.path.realpath(root), os.path.realpath(path))
