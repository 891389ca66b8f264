"""Finding and running the third-party client programs the client tests drive.

A missing program fails the test with the command that installs it: these
tests prove that real clients work, so they must never pass by being skipped.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest


def program(name: str) -> str:
    """The absolute path of ``name``, or a failed test naming what installs it."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail(
            f"{name} is not installed: run scripts/system-packages.sh", pytrace=False
        )
    return found


def run(
    args: list[str], *, timeout: float = 120, check: bool = True, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run a client program with a bound on its time; failures show its output."""
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    if check and done.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} exited {done.returncode}\n"
            f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}",
            pytrace=False,
        )
    return done


def tree_digest(root: Path) -> tuple[dict[str, str], set[str]]:
    """SHA-256 of every file and the set of folders below ``root``, by NFC path."""
    files: dict[str, str] = {}
    folders: set[str] = set()
    for path in sorted(root.rglob("*")):
        key = unicodedata.normalize("NFC", path.relative_to(root).as_posix())
        if path.is_dir():
            folders.add(key)
            continue
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(1024 * 1024):
                digest.update(block)
        files[key] = digest.hexdigest()
    return files, folders
