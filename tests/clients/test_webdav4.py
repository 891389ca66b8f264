"""The webdav4 Python library, its client and its fsspec filesystem, against Grove.

webdav4 sends PROPFIND without a Depth header for info(), isdir() and
exists(); Grove answers those as Depth infinity for small trees.
"""

from __future__ import annotations

import io
import os

import pytest
from webdav4.client import Client, ResourceAlreadyExists
from webdav4.fsspec import WebdavFileSystem

from tests.clients.programs import tree_digest
from tests.conftest import PASSWORD

BLOB = os.urandom(2 * 1024 * 1024 + 3)


@pytest.mark.clients
def test_webdav4_client_uploads_lists_downloads_moves_copies_removes(live, tmp_path):
    client = Client(live.dav(), auth=("alice", PASSWORD), retry=False)
    local = tmp_path / "a b.bin"
    local.write_bytes(BLOB)
    client.mkdir("lib")
    client.mkdir("lib/sub dir")
    client.upload_file(local, "lib/sub dir/a b.bin")
    client.upload_fileobj(io.BytesIO("grüße".encode()), "lib/ünï.txt")
    with pytest.raises(ResourceAlreadyExists):
        client.upload_fileobj(io.BytesIO(b"no"), "lib/ünï.txt")
    client.upload_fileobj(io.BytesIO(b"replaced"), "lib/ünï.txt", overwrite=True)

    listing = {entry["name"]: entry for entry in client.ls("lib", detail=True)}
    assert set(listing) == {"lib/sub dir", "lib/ünï.txt"}
    assert listing["lib/sub dir"]["type"] == "directory"
    assert listing["lib/ünï.txt"]["content_length"] == len(b"replaced")
    assert listing["lib/ünï.txt"]["etag"]
    assert client.isdir("lib") and not client.isdir("lib/ünï.txt")
    assert client.info("lib/sub dir/a b.bin")["content_length"] == len(BLOB)
    assert client.exists("lib/sub dir") and not client.exists("nothing here")

    client.download_file("lib/sub dir/a b.bin", tmp_path / "down.bin")
    assert (tmp_path / "down.bin").read_bytes() == BLOB
    client.move("lib/ünï.txt", "lib/moved.txt")
    client.copy("lib/sub dir", "copied dir")
    client.remove("lib/moved.txt")
    client.remove("lib/sub dir")

    root = live.user_root()
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == [
        "copied dir",
        "copied dir/a b.bin",
        "lib",
    ]
    assert (root / "copied dir" / "a b.bin").read_bytes() == BLOB
    assert client.ls("lib", detail=False) == []


@pytest.mark.clients
def test_webdav4_fsspec_filesystem_round_trip(live, tmp_path):
    fs = WebdavFileSystem(live.dav(), auth=("alice", PASSWORD), retry=False)
    source = tmp_path / "source"
    (source / "deep" / "deeper").mkdir(parents=True)
    (source / "top.txt").write_bytes(b"top\n")
    (source / "deep" / "blob.bin").write_bytes(BLOB)
    (source / "deep" / "deeper" / "ñame with space.txt").write_bytes(b"n\n")

    fs.put(str(source), "tree", recursive=True)
    assert sorted(fs.find("tree")) == [
        "tree/deep/blob.bin",
        "tree/deep/deeper/ñame with space.txt",
        "tree/top.txt",
    ]
    assert fs.du("tree") == len(BLOB) + len(b"top\n") + len(b"n\n")
    assert fs.cat_file("tree/top.txt") == b"top\n"
    with fs.open("tree/written.txt", "wb") as handle:
        handle.write(b"through open()\n")
    fs.mv("tree/deep/deeper", "tree/moved", recursive=True)
    fs.cp("tree/top.txt", "tree/top copy.txt")
    fs.rm("tree/deep/blob.bin")

    down = tmp_path / "down"
    fs.get("tree", str(down), recursive=True)
    files, folders = tree_digest(down)
    expected = tmp_path / "expected"
    (expected / "deep").mkdir(parents=True)
    (expected / "moved").mkdir()
    (expected / "top.txt").write_bytes(b"top\n")
    (expected / "top copy.txt").write_bytes(b"top\n")
    (expected / "written.txt").write_bytes(b"through open()\n")
    (expected / "moved" / "ñame with space.txt").write_bytes(b"n\n")
    assert (files, folders) == tree_digest(expected)
    assert tree_digest(live.user_root() / "tree") == tree_digest(expected)

    fs.rm("tree", recursive=True)
    assert not fs.exists("tree")
    assert list(live.user_root().iterdir()) == []
