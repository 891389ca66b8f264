"""The ownCloud and Nextcloud sync clients (owncloudcmd, nextcloudcmd) against Grove.

Each syncs a tree up (a 25 MiB file included), then changes on both sides,
then a fresh folder down, and the trees must match byte for byte. The
access log shows which upload door each client took: owncloudcmd uses TUS
(it reads ``files.tus_support``); told not to (``OWNCLOUD_NO_TUS``) it sends
plain PUTs (owncloudcmd 2.11 crashes before its first request when its NG
chunking is forced with ``OWNCLOUD_CHUNKING_NG=1``); nextcloudcmd uses chunked
upload NG for the big file (``dav.chunking``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from tests.clients.programs import program, run, tree_digest
from tests.conftest import PASSWORD

pytestmark = pytest.mark.clients

BIG = 25 * 1024 * 1024
FILES = {
    "notes.txt": b"hello\n",
    "Projekt/Entw\u00fcrfe/draft.md": b"# draft\n" * 50,
    "Projekt/deep/er/leaf.bin": os.urandom(70_000),
    "empty.txt": b"",
}


def synced(root: Path) -> tuple[dict[str, str], set[str]]:
    """The tree below ``root`` without the clients' own journal files."""
    files, folders = tree_digest(root)
    journal = (".sync_", "._sync_", ".owncloudsync", ".csync_journal")
    return {k: v for k, v in files.items() if not k.startswith(journal)}, folders


def sync(name: str, local: Path, url: str, env: dict[str, str], exclude: Path) -> None:
    run(
        [
            program(name),
            "--non-interactive",
            "--exclude",
            str(exclude),
            "-u",
            "alice",
            "-p",
            PASSWORD,
            str(local),
            url,
        ],
        timeout=180,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize(
    ("client", "env", "big_door"),
    [
        ("owncloudcmd", {}, "/data/"),
        ("owncloudcmd", {"OWNCLOUD_NO_TUS": "1"}, "PUT '/remote.php/webdav/big.bin'"),
        ("nextcloudcmd", {}, "/remote.php/dav/uploads/"),
    ],
    ids=["owncloudcmd-tus", "owncloudcmd-put", "nextcloudcmd"],
)
def test_sync_up_two_ways_and_down(
    live, alice, tmp_path, caplog, client, env, big_door
):
    caplog.set_level(logging.INFO, logger="grove.access")
    # The clients' system exclude lists belong to packages tests do not need.
    exclude = tmp_path / "exclude.lst"
    exclude.write_text("")
    env = {**env, "HOME": str(tmp_path)}
    local = tmp_path / "local"
    for relative, content in FILES.items():
        (local / relative).parent.mkdir(parents=True, exist_ok=True)
        (local / relative).write_bytes(content)
    (local / "big.bin").write_bytes(os.urandom(BIG))
    (local / "empty folder").mkdir()

    # 1. Up.
    sync(client, local, live.url, env, exclude)
    server = live.user_root()
    assert synced(server) == synced(local)
    doors = " ".join(record.getMessage() for record in caplog.records)
    assert big_door in doors, f"{client} did not use {big_door}"

    # 2. Both sides change; a second sync brings them together.
    (local / "notes.txt").write_bytes(b"changed here\n")
    os.utime(local / "notes.txt", (1_700_000_000, 1_700_000_000))
    answer = alice.put(f"{live.dav()}/Projekt/from-server.txt", data=b"made on server")
    assert answer.status_code == 201
    sync(client, local, live.url, env, exclude)
    assert (server / "notes.txt").read_bytes() == b"changed here\n"
    assert (local / "Projekt/from-server.txt").read_bytes() == b"made on server"
    assert synced(server) == synced(local)

    # 3. Down, into a fresh folder.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    sync(client, fresh, live.url, {**env, "HOME": str(tmp_path / "home2")}, exclude)
    assert synced(fresh) == synced(server)
    staging = live.settings.state_dir / "uploads"
    assert [p for p in staging.iterdir() if p.is_dir()] == []
