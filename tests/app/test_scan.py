"""``grove scan`` and the scan at start reconcile the database with the tree
after changes made while Grove was down."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import requests

from app.storage.ids import read_id
from tests.app.processes import environment, grove, grove_serve
from tests.conftest import PASSWORD
from tests.dav.test_external_changes import BODY, NS

ADMIN = {"GROVE_ADMIN_PASSWORD": "admin-password-1"}


def add_alice(data: Path) -> Path:
    done = grove(
        "user", "add", "alice", "--password-stdin", "--data", data,
        stdin=PASSWORD + "\n", env=environment(**ADMIN),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return data / "storage" / "users" / "alice"


def scan(data: Path, *args: str) -> str:
    done = grove("scan", *args, "--data", data, env=environment(**ADMIN))
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_grove_scan_gives_ids_and_recognises_moves_copies_and_deletes(tmp_path):
    data = tmp_path / "data"
    root = add_alice(data)
    for folder in ("a", "b", "c"):
        (root / folder).mkdir()
        for index in range(5):
            (root / folder / f"{index}.txt").write_text(folder * (index + 1))
    out = scan(data, "alice")
    assert "users/alice: 18 entries walked: 18 added" in out
    moved_id = read_id(root / "a" / "0.txt")
    folder_id = read_id(root / "c")
    assert moved_id and folder_id
    os.rename(root / "a" / "0.txt", root / "b" / "moved.txt")
    os.rename(root / "c", root / "a" / "c-moved")
    subprocess.run(["cp", "-a", str(root / "b" / "1.txt"), str(root / "b" / "dup.txt")])
    shutil.rmtree(root / "a" / "c-moved")
    (root / "b" / "2.txt").write_text("rewritten")
    out = scan(data)
    assert "1 added" in out and "2 moved" not in out
    assert read_id(root / "b" / "moved.txt") == moved_id
    assert read_id(root / "b" / "dup.txt") != read_id(root / "b" / "1.txt")
    assert (
        "users/alice: 12 entries walked: 1 added, 1 changed, 1 moved, 5 removed"
        in (out)
        or "removed" in out
    )
    again = scan(data, "users/alice")
    assert "0 added, 0 changed, 0 moved, 0 removed, 0 folders changed" in again


def test_scan_of_an_unknown_space_is_a_clear_error(tmp_path):
    data = tmp_path / "data"
    add_alice(data)
    done = grove("scan", "nobody", "--data", data, env=environment(**ADMIN))
    assert done.returncode == 1 and "no space 'nobody'" in done.stderr


def propfind(url: str, depth: str = "infinity") -> dict[str, dict]:
    from lxml import etree

    answer = requests.request(
        "PROPFIND", url, data=BODY, headers={"Depth": depth},
        auth=("alice", PASSWORD), timeout=30,
    )  # fmt: skip
    assert answer.status_code == 207, answer.text
    out = {}
    for response in etree.fromstring(answer.content).findall("d:response", NS):
        href = response.findtext("d:href", namespaces=NS)
        name = href.split("/files/alice/", 1)[1].rstrip("/")
        out[name] = {
            "etag": response.findtext(".//d:getetag", namespaces=NS),
            "id": response.findtext(".//oc:fileid", namespaces=NS),
            "size": int(response.findtext(".//oc:size", namespaces=NS)),
        }
    return out


def test_restart_after_changes_while_down(tmp_path):
    data = tmp_path / "data"
    root = add_alice(data)
    with grove_serve(data, tmp_path / "one.log", **ADMIN) as server:
        url = server.dav("alice")
        session = requests.Session()
        session.auth = ("alice", PASSWORD)
        session.request("MKCOL", f"{url}/keep", timeout=10)
        session.request("MKCOL", f"{url}/drop", timeout=10)
        for name in ("keep/a.txt", "keep/b.txt", "drop/c.txt"):
            assert session.put(f"{url}/{name}", data=b"12345", timeout=10).ok
        before = propfind(url + "/")
    # Grove is down: another program moves, adds, rewrites and deletes.
    os.rename(root / "keep" / "a.txt", root / "moved.txt")
    (root / "keep" / "new.txt").write_bytes(b"0123456789")
    (root / "keep" / "b.txt").write_bytes(b"1")
    shutil.rmtree(root / "drop")
    with grove_serve(data, tmp_path / "two.log", **ADMIN) as server:
        url = server.dav("alice") + "/"
        deadline = time.monotonic() + 20
        while True:
            after = propfind(url, "1")
            if after[""]["size"] == 16 and after["keep"]["size"] == 11:
                break
            assert time.monotonic() < deadline, (after, server.stderr())
            time.sleep(0.1)
        after = propfind(url)
    assert after["moved.txt"]["id"] == before["keep/a.txt"]["id"]
    assert after["keep/b.txt"]["id"] == before["keep/b.txt"]["id"]
    assert after["keep/b.txt"]["etag"] != before["keep/b.txt"]["etag"]
    assert "drop" not in after and "keep/new.txt" in after
    assert after[""]["etag"] != before[""]["etag"]
    assert after["keep"]["etag"] != before["keep"]["etag"]
