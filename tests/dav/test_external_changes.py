"""Programs that write the tree directly, while Grove runs with its watcher:
after each, PROPFIND over HTTP shows ids, ETags and sizes in step."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from app import spaces, users
from app.models import Space
from app.storage.ids import read_id
from app.storage.scan import scan_space
from app.storage.watcher import Watcher
from tests.conftest import LiveServer, make_settings, start_server

NS = {"d": "DAV:", "oc": "http://owncloud.org/ns"}
BODY = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
    "<d:prop><d:getetag/><oc:fileid/><oc:size/><oc:checksums/></d:prop></d:propfind>"
)
# watchdog warns (harmlessly) when a folder moved in the tree is watched again.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Callback with id .* already exists:RuntimeWarning"
)
TIMEOUT = 10.0  # generous bound for polling; the target is 2 s


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[LiveServer]:
    """A running Grove whose watcher follows the tree (alice's space exists)."""
    settings = make_settings(tmp_path / "data", watch_batch_ms=50)
    server, live = start_server(settings)
    live.add_user("alice")
    watcher = Watcher(settings)
    assert watcher.start()
    try:
        wait_until(lambda: watcher.scans >= 1)
        yield live
    finally:
        watcher.stop()
        server.stop()


def wait_until(
    check: Callable[[], Any],
    timeout: float = TIMEOUT,
    extra: Callable[[], Any] = lambda: "",
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {check} {extra()}")
        time.sleep(0.05)


def listing(live: LiveServer, path: str = "", depth: str = "1") -> dict[str, dict]:
    """name (relative to alice's root) -> etag, id, size, checksum."""
    answer = live.session().request(
        "PROPFIND", f"{live.dav()}/{path}", data=BODY, headers={"Depth": depth}
    )
    assert answer.status_code == 207, answer.text
    out = {}
    base = "/remote.php/dav/files/alice/"
    for response in etree.fromstring(answer.content).findall("d:response", NS):
        href = requests.utils.unquote(response.findtext("d:href", namespaces=NS))
        name = href[len(base) :].rstrip("/")
        fileid = response.findtext(".//oc:fileid", namespaces=NS)
        out[name] = {
            "etag": response.findtext(".//d:getetag", namespaces=NS),
            "id": fileid.rpartition("!")[2] if fileid else None,
            "size": int(response.findtext(".//oc:size", namespaces=NS)),
            "checksum": response.findtext(".//oc:checksum", namespaces=NS),
        }
    return out


def sizes(live: LiveServer) -> tuple[int, int]:
    """(oc:size of alice's root, bytes of her files on disk)."""
    return root_of(live)["size"], disk_size(live.user_root())


def root_of(live: LiveServer) -> dict:
    return listing(live, "", "0")[""]


def disk_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def settled(live: LiveServer, before: str | None = None) -> dict:
    """Wait until the root's oc:size matches the disk (and its ETag moved)."""
    root = live.user_root()

    def check() -> dict | None:
        now = root_of(live)
        if now["size"] != disk_size(root):
            return None
        if before is not None and now["etag"] == before:
            return None
        return now

    return wait_until(check, extra=lambda: sizes(live))


def sh(script: str, cwd: Path) -> None:
    subprocess.run(["sh", "-ec", script], cwd=cwd, check=True, timeout=60)


def test_shell_tools_show_with_ids_and_folder_etags_change(watched):
    root = watched.user_root()
    sh("mkdir -p a/b && echo hello > a/b/f.txt", root)
    before = settled(watched)["etag"]
    a_before = listing(watched, "", "1")["a"]["etag"]
    started = time.monotonic()
    sh("echo more >> a/b/f.txt", root)  # in place: same inode
    after = settled(watched, before)
    assert time.monotonic() - started < 2.0
    assert listing(watched, "", "1")["a"]["etag"] != a_before
    files = listing(watched, "a/b")
    assert files["a/b/f.txt"]["id"] == read_id(root / "a/b/f.txt")
    assert files["a/b/f.txt"]["size"] == len(b"hello\nmore\n")
    assert files["a/b/f.txt"]["checksum"] is None  # no stale checksum served
    assert after["size"] == len(b"hello\nmore\n")


def test_moves_keep_ids_and_change_both_folders(watched):
    root = watched.user_root()
    sh("mkdir -p src/deep dst && echo x > src/deep/f && echo y > src/g", root)
    settled(watched)
    ids_before = listing(watched, "src", "infinity")
    dst_before = listing(watched, "", "1")["dst"]["etag"]
    src_before = listing(watched, "", "1")["src"]["etag"]
    sh("mv src/deep dst/ && mv src/g dst/renamed", root)

    def moved() -> dict | None:
        now = listing(watched, "dst", "infinity")
        return now if "dst/renamed" in now and "dst/deep/f" in now else None

    now = wait_until(moved)
    assert now["dst/deep"]["id"] == ids_before["src/deep"]["id"]
    assert now["dst/deep/f"]["id"] == ids_before["src/deep/f"]["id"]
    assert now["dst/renamed"]["id"] == ids_before["src/g"]["id"]
    top = wait_until(
        lambda: (
            (t := listing(watched, "", "1"))["dst"]["size"] == 4
            and t["src"]["size"] == 0
            and t
        )
    )
    assert top["dst"]["etag"] != dst_before and top["src"]["etag"] != src_before


def test_python_file_io_and_deletes(watched):
    root = watched.user_root()
    (root / "p").mkdir()
    for index in range(20):
        (root / "p" / f"n{index}.bin").write_bytes(os.urandom(1000 + index))
    before = settled(watched)["etag"]
    names = listing(watched, "p")
    assert len({v["id"] for k, v in names.items() if k != "p"}) == 20
    for index in range(10):
        (root / "p" / f"n{index}.bin").unlink()
    with open(root / "p" / "n15.bin", "r+b") as handle:
        handle.write(b"changed")
    settled(watched, before)
    now = listing(watched, "p")
    assert sorted(now) == ["p"] + sorted(f"p/n{i}.bin" for i in range(10, 20))
    assert now["p/n15.bin"]["etag"] != names["p/n15.bin"]["etag"]
    assert now["p/n15.bin"]["id"] == names["p/n15.bin"]["id"]


def test_copies_with_the_same_id_get_new_ids(watched):
    root = watched.user_root()
    sh("mkdir d && echo a > d/one && echo b > d/two", root)
    settled(watched)
    original = listing(watched, "d")
    sh("cp -a d/one d/one-copy && cp -a d d2", root)

    def copied() -> dict | None:
        now = listing(watched, "", "infinity")
        return now if {"d/one-copy", "d2/one", "d2/two"} <= set(now) else None

    now = wait_until(copied)
    settled(watched)
    now = listing(watched, "", "infinity")
    assert now["d/one"]["id"] == original["d/one"]["id"]
    assert now["d/two"]["id"] == original["d/two"]["id"]
    all_ids = [v["id"] for v in now.values()]
    assert len(all_ids) == len(set(all_ids)), now
    assert read_id(root / "d2/one") == now["d2/one"]["id"]


def test_editor_save_keeps_the_id(watched):
    root = watched.user_root()
    (root / "doc.txt").write_text("version 1\n")
    settled(watched)
    before = listing(watched, "")["doc.txt"]
    temp = root / ".doc.txt.swp-new"
    temp.write_text("version 2, longer\n")
    os.rename(temp, root / "doc.txt")
    settled(watched, root_of(watched)["etag"])
    now = wait_until(
        lambda: (v := listing(watched, "")["doc.txt"])["etag"] != before["etag"] and v
    )
    assert now["id"] == before["id"]
    assert now["size"] == len("version 2, longer\n")
    assert ".doc.txt.swp-new" not in listing(watched, "")


def test_tar_burst_of_thousands_stays_responsive(watched, tmp_path):
    source = tmp_path / "src"
    for folder in range(30):
        (source / f"f{folder}").mkdir(parents=True)
        for index in range(100):
            (source / f"f{folder}" / f"{index}.txt").write_bytes(b"z" * index)
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(source, arcname="unpacked")
    root = watched.user_root()
    before = root_of(watched)["etag"]
    slowest = 0.0
    process = subprocess.Popen(["tar", "-xf", str(archive)], cwd=root)
    try:
        while process.poll() is None:
            started = time.monotonic()
            root_of(watched)
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.05)
    finally:
        process.wait(timeout=60)
    assert process.returncode == 0
    settled(watched, before)
    tree = listing(watched, "unpacked", "infinity")
    assert len(tree) == 1 + 30 + 3000
    assert len({v["id"] for v in tree.values()}) == len(tree)
    assert tree["unpacked"]["size"] == 30 * sum(range(100))
    assert slowest < 2.0, f"a PROPFIND took {slowest:.2f} s during the burst"


def test_git_checkout_of_hundreds_of_files(watched, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    run = lambda *args, cwd=repo: subprocess.run(  # noqa: E731
        [*git, *args], cwd=cwd, check=True, timeout=60, capture_output=True
    )
    run("init", "-q", "-b", "main")
    for index in range(300):
        (repo / f"m{index % 10}").mkdir(exist_ok=True)
        (repo / f"m{index % 10}" / f"{index}.txt").write_text(f"main {index}\n")
    run("add", ".")
    run("commit", "-q", "-m", "main")
    run("checkout", "-q", "-b", "other")
    for index in range(0, 300, 2):
        (repo / f"m{index % 10}" / f"{index}.txt").write_text(f"other {index} !!\n")
    shutil.rmtree(repo / "m9")
    run("add", "-A")
    run("commit", "-q", "-m", "other")
    run("checkout", "-q", "main")
    root = watched.user_root()
    run("clone", "-q", str(repo), "work", cwd=root)
    settled(watched)
    first = listing(watched, "work", "infinity")
    run("checkout", "-q", "other", cwd=root / "work")
    settled(watched, root_of(watched)["etag"])
    second = listing(watched, "work", "infinity")
    assert "work/m9" in first and "work/m9" not in second
    assert second["work/m1/1.txt"]["id"] == first["work/m1/1.txt"]["id"]
    assert second["work/m0/0.txt"]["etag"] != first["work/m0/0.txt"]["etag"]
    assert second["work/m0/0.txt"]["size"] == len("other 0 !!\n")
    assert second["work"]["size"] == disk_size(root / "work")


def test_rsync_with_xattrs_gets_new_ids_for_copies(watched):
    root = watched.user_root()
    sh("mkdir r && echo 1 > r/a && echo 22 > r/b", root)
    settled(watched)
    original = listing(watched, "r")
    subprocess.run(["rsync", "-aX", "r/", "r-copy/"], cwd=root, check=True, timeout=60)
    settled(watched)
    wait_until(lambda: "r-copy/b" in listing(watched, "r-copy"))
    now = listing(watched, "", "infinity")
    assert now["r/a"]["id"] == original["r/a"]["id"]
    assert now["r-copy/a"]["id"] != original["r/a"]["id"]
    assert len({v["id"] for v in now.values()}) == len(now)


def test_a_move_between_spaces_on_disk_keeps_the_id(watched: LiveServer) -> None:
    """``mv`` from alice's personal space into a project space she manages."""
    alice = watched.session()
    user = users.get("alice")
    project = spaces.create_project(
        watched.settings.storage_dir, "Team Docs", creator=user
    )
    project_dav = f"{watched.url}/dav/spaces/{project.id}"
    assert alice.put(f"{watched.dav()}/move me.txt", data=b"travels").status_code == 201
    before = listing(watched)["move me.txt"]["id"]
    personal_etag = root_of(watched)["etag"]
    target = watched.settings.storage_dir / project.folder / "move me.txt"
    os.rename(watched.user_root() / "move me.txt", target)

    def arrived() -> str | None:
        answer = alice.request(
            "PROPFIND",
            f"{project_dav}/move%20me.txt",
            data=BODY,
            headers={"Depth": "0"},
        )
        if answer.status_code != 207:
            return None
        fileid = etree.fromstring(answer.content).findtext(".//oc:fileid", None, NS)
        return fileid.rpartition("!")[2] if fileid else None

    assert wait_until(arrived) == before
    assert wait_until(lambda: "move me.txt" not in listing(watched))
    assert root_of(watched)["etag"] != personal_etag
    assert alice.get(f"{project_dav}/move%20me.txt").content == b"travels"


def test_hard_links_get_ids_of_their_own(watched):
    """A second hard link shares the first's attributes, so its id lives in the
    database only; both keep their ids through a full scan."""
    root = watched.user_root()
    alice = watched.session()
    assert alice.put(f"{watched.dav()}/original.txt", data=b"shared").status_code == 201
    first = listing(watched)["original.txt"]["id"]
    os.link(root / "original.txt", root / "second link.txt")
    second = wait_until(lambda: listing(watched).get("second link.txt"))["id"]
    assert second and second != first
    assert read_id(root / "original.txt") == first  # the attribute is the first's
    scan_space(Space.get(Space.folder == "users/alice"), root)
    now = listing(watched)
    assert (now["original.txt"]["id"], now["second link.txt"]["id"]) == (first, second)
    assert alice.get(f"{watched.dav()}/second%20link.txt").content == b"shared"
