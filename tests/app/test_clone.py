"""Copying file content inside the kernel gives the same bytes as a plain copy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.storage.clone import clone


def test_clone_copies_content_and_refuses_an_existing_target(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    payload = os.urandom(3 * 1024 * 1024 + 11)
    source.write_bytes(payload)
    clone(source, tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == payload
    (tmp_path / "empty").write_bytes(b"")
    clone(tmp_path / "empty", tmp_path / "empty-copy")
    assert (tmp_path / "empty-copy").read_bytes() == b""
    with pytest.raises(FileExistsError):
        clone(source, tmp_path / "copy.bin")
