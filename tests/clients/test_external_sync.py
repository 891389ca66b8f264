"""Sync clients see what other programs write into the tree: after a program
adds, rewrites, renames and deletes files on the server's disk, the next
owncloudcmd or rclone run brings the local copy in step."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.clients.programs import tree_digest
from tests.clients.test_rclone import Rclone
from tests.clients.test_sync_clients import sync, synced
from tests.conftest import LiveServer
from tests.dav.test_external_changes import root_of, settled, watched

pytestmark = pytest.mark.clients
__all__ = ["watched"]  # the fixture: a Grove whose watcher follows the tree

START = {
    "notes.txt": b"hello\n",
    "rename me.txt": b"to be renamed\n",
    "delete me.txt": b"to be deleted\n",
    "Projekt/plan.md": b"# plan\n",
}


def put_start(live: LiveServer) -> None:
    alice = live.session()
    alice.request("MKCOL", f"{live.dav()}/Projekt")
    for name, content in START.items():
        assert alice.put(f"{live.dav()}/{name}", data=content).status_code == 201


def change_on_disk(live: LiveServer) -> None:
    """What a program on the server does, then wait until Grove has seen it."""
    root = live.user_root()
    before = root_of(live)["etag"]
    (root / "notes.txt").write_bytes(b"rewritten in place by a program\n")
    os.rename(root / "rename me.txt", root / "Projekt" / "renamed.txt")
    (root / "delete me.txt").unlink()
    (root / "made on disk").mkdir()
    (root / "made on disk" / "report.csv").write_bytes(b"a,b\n1,2\n")
    shutil.copy(root / "Projekt" / "plan.md", root / "Projekt" / "plan copy.md")
    settled(live, before)


def test_owncloudcmd_syncs_what_a_program_changed(watched: LiveServer, tmp_path: Path):
    put_start(watched)
    exclude = tmp_path / "exclude.lst"
    exclude.write_text("")
    env = {"HOME": str(tmp_path)}
    local = tmp_path / "local"
    local.mkdir()
    sync("owncloudcmd", local, watched.url, env, exclude)
    assert synced(local) == synced(watched.user_root())
    change_on_disk(watched)
    sync("owncloudcmd", local, watched.url, env, exclude)
    files, _ = synced(local)
    assert synced(local) == synced(watched.user_root())
    assert "delete me.txt" not in files and "Projekt/renamed.txt" in files
    assert (local / "notes.txt").read_bytes() == b"rewritten in place by a program\n"


def test_rclone_syncs_what_a_program_changed(watched: LiveServer, tmp_path: Path):
    put_start(watched)
    rclone = Rclone(tmp_path, watched.dav(), "owncloud")
    local = tmp_path / "local"
    rclone("sync", "grove:", str(local))
    assert tree_digest(local) == tree_digest(watched.user_root())
    change_on_disk(watched)
    rclone("sync", "grove:", str(local))
    assert tree_digest(local) == tree_digest(watched.user_root())
    assert (local / "made on disk" / "report.csv").read_bytes() == b"a,b\n1,2\n"
    rclone("check", "grove:", str(local))
