"""rclone as a WebDAV remote of a live Grove, vendors ``other`` and ``owncloud``."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import unicodedata
from pathlib import Path

import pytest

from tests.clients.programs import program, run, tree_digest
from tests.conftest import PASSWORD

BIG = 50 * 1024 * 1024
NFD_FOLDER = unicodedata.normalize("NFD", "Café Ordner")
NFD_FILE = unicodedata.normalize("NFD", "naïve résumé.txt")

# Relative path -> content; mtimes are set to whole seconds so that they can be
# compared exactly after a round trip.
SMALL_FILES = {
    "Projekt A/Entwürfe/draft one.txt": b"first draft\n",
    "Projekt A/Entwürfe/deeper/level 4/note.md": b"# deep\n" * 100,
    "Projekt A/keep.txt": b"keep me",
    f"{NFD_FOLDER}/{NFD_FILE}": "décomposé".encode(),
    "日本語/ファイル 名.txt": "こんにちは".encode(),
    "trash me/a.txt": b"a",
    "trash me/b/c.txt": b"c",
    "delete files/x.log": b"x" * 10,
    "delete files/y.log": b"y" * 20,
    "zero bytes.txt": b"",
}
EMPTY_FOLDERS = ["empty folder", "Projekt A/empty inside"]


def make_source(root: Path) -> dict[str, int]:
    """Write the source tree; answer each file's mtime by its NFC path."""
    mtimes = {}
    files = dict(SMALL_FILES)
    files["big/blob 50MiB.bin"] = os.urandom(BIG)
    for number, (name, content) in enumerate(sorted(files.items())):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        mtime = 1_600_000_000 + number * 3_607
        os.utime(path, (mtime, mtime))
        mtimes[unicodedata.normalize("NFC", name)] = mtime
    for name in EMPTY_FOLDERS:
        (root / name).mkdir(parents=True)
    return mtimes


class Rclone:
    """rclone with a config file of its own and no state outside ``home``."""

    def __init__(self, home: Path, url: str, vendor: str) -> None:
        self.binary = program("rclone")
        self.home = home
        self.config = home / "rclone.conf"
        obscured = run([self.binary, "obscure", PASSWORD], env=self.env).stdout.strip()
        self.config.write_text(
            "[grove]\ntype = webdav\n"
            f"url = {url}\nvendor = {vendor}\nuser = alice\npass = {obscured}\n"
        )

    @property
    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_CACHE_HOME": str(self.home / "cache"),
            "XDG_CONFIG_HOME": str(self.home / "config"),
        }

    def __call__(self, *args: str) -> str:
        retries = ["--retries", "1", "--low-level-retries", "1"]
        command = [self.binary, "--config", str(self.config), *retries, *args]
        return run(command, env=self.env).stdout


@pytest.mark.clients
@pytest.mark.parametrize("vendor", ["other", "owncloud"])
def test_rclone_round_trip_keeps_every_byte(live, tmp_path, vendor):
    source, expected, down = (
        tmp_path / name for name in ("source", "expected", "down")
    )
    mtimes = make_source(source)
    shutil.copytree(source, expected)
    home = tmp_path / "home"
    home.mkdir()
    rclone = Rclone(home, live.dav(), vendor)
    served = live.user_root() / "up"

    rclone("copy", "--create-empty-src-dirs", str(source), "grove:up")
    rclone("check", "--download", str(source), "grove:up")
    assert tree_digest(served) == tree_digest(source)
    assert all(
        unicodedata.is_normalized("NFC", path.name) for path in served.rglob("*")
    ), "names created through Grove are stored in NFC"
    if vendor == "owncloud":
        assert_checksums_and_mtimes(rclone, source, served, mtimes)

    incoming = tmp_path / "incoming"
    (incoming / "sub dir").mkdir(parents=True)
    (incoming / "sub dir" / "new file.txt").write_bytes(b"moved up")
    rclone("move", str(incoming), "grove:up/incoming")
    assert not (incoming / "sub dir" / "new file.txt").exists()
    (expected / "incoming" / "sub dir").mkdir(parents=True)
    (expected / "incoming" / "sub dir" / "new file.txt").write_bytes(b"moved up")

    rclone("move", "grove:up/Projekt A/Entwürfe", "grove:up/Verschoben")
    (expected / "Projekt A" / "Entwürfe").rename(expected / "Verschoben")
    rclone("moveto", "grove:up/Projekt A/keep.txt", "grove:up/Verschoben/kept.txt")
    (expected / "Projekt A" / "keep.txt").rename(expected / "Verschoben" / "kept.txt")

    rclone("delete", "grove:up/delete files")
    for name in ("x.log", "y.log"):
        (expected / "delete files" / name).unlink()
    rclone("purge", "grove:up/trash me")
    shutil.rmtree(expected / "trash me")

    rclone("sync", "--create-empty-src-dirs", "grove:up", str(down))
    assert tree_digest(down) == tree_digest(expected)
    assert tree_digest(served) == tree_digest(expected)
    if vendor == "owncloud":
        note = "deeper/level 4/note.md"
        original = unicodedata.normalize("NFC", f"Projekt A/Entwürfe/{note}")
        assert os.stat(down / "Verschoben" / note).st_mtime == mtimes[original]
        big = "big/blob 50MiB.bin"
        assert os.stat(down / big).st_mtime == mtimes[big]


def assert_checksums_and_mtimes(
    rclone: Rclone, source: Path, served: Path, mtimes: dict[str, int]
) -> None:
    """oc:checksums answers the SHA1 of each file and X-OC-Mtime set its mtime."""
    listing = json.loads(rclone("lsjson", "-R", "--hash", "grove:up"))
    sha1s = {
        unicodedata.normalize("NFC", entry["Path"]): entry["Hashes"]["sha1"]
        for entry in listing
        if not entry["IsDir"]
    }
    expected = {}
    for path in source.rglob("*"):
        if path.is_file():
            key = unicodedata.normalize("NFC", path.relative_to(source).as_posix())
            expected[key] = hashlib.sha1(path.read_bytes()).hexdigest()
    assert sha1s == expected
    for name, mtime in mtimes.items():
        assert os.stat(served / name).st_mtime == mtime, name
