"""davfs2: a real kernel mount of Grove, used with plain shell tools.

davfs2 loses edits silently (parks them in its lost+found) when ETags are weak,
change without a content change, or are missing from PUT answers; so the test
checks the server's bytes over HTTP and davfs2's backup list after unmounting.
"""

from __future__ import annotations

import grp
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from lxml import etree

from tests.clients.programs import program, run
from tests.conftest import PASSWORD

DAVFS_NS = {"x": "http://dav.sf.net/"}
DAV_NS = {"d": "DAV:"}
BIG = os.urandom(3 * 1024 * 1024 + 17)


def fuse_diagnosis() -> str:
    """What the kernel and this process offer for a FUSE mount (failure message)."""
    facts = []
    facts.append(f"/dev/fuse exists: {os.path.exists('/dev/fuse')}")
    with open("/proc/filesystems") as handle:
        facts.append(f"fuse in /proc/filesystems: {'fuse' in handle.read().split()}")
    with open("/proc/self/status") as handle:
        caps = [line.strip() for line in handle if line.startswith("CapEff")]
    facts.append(f"effective capabilities: {caps}")
    facts.append(f"running as uid {os.getuid()}")
    return "; ".join(facts)


def davfs_pid(mountpoint: Path) -> int | None:
    """The mount.davfs daemon serving ``mountpoint`` (it forks away from us)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            words
            and words[0].endswith(b"mount.davfs")
            and os.fsencode(mountpoint) in words
        ):
            return int(entry.name)
    return None


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def davfs2_cache() -> Iterator[Path]:
    """A cache folder for davfs2, kept until the test has read its index."""
    # The daemon runs as user davfs2: its cache must not sit below pytest's
    # private (0700) temporary folders, and must be group davfs2 with rwx.
    cache = Path(tempfile.mkdtemp(prefix="grove-davfs2-cache-"))
    try:
        os.chown(cache, -1, grp.getgrnam("davfs2").gr_gid)
        os.chmod(cache, 0o770)
        yield cache
    finally:
        shutil.rmtree(cache, ignore_errors=True)


@contextmanager
def davfs2_mount(url: str, base: Path, cache: Path) -> Iterator[Path]:
    """Mount ``url`` with a config of our own; yield the mount point."""
    mount_davfs = program("mount.davfs")
    mountpoint = base / "mnt"
    mountpoint.mkdir()
    secrets = base / "secrets"
    secrets.write_text(f'{url} alice "{PASSWORD}"\n')
    secrets.chmod(0o600)
    config = base / "davfs2.conf"
    config.write_text(
        f"cache_dir {cache}\nsecrets {secrets}\nbuf_size 64\ndelay_upload 0\n"
        "use_locks 1\nask_auth 0\n"
    )
    with open(os.devnull) as devnull:
        mounted = run(
            [mount_davfs, "-o", f"conf={config}", url, str(mountpoint)],
            stdin=devnull,
            timeout=60,
            check=False,
        )
    if mounted.returncode != 0:
        pytest.fail(
            f"mount.davfs failed ({mounted.returncode}): {mounted.stderr.strip()}"
            f"\n{fuse_diagnosis()}",
            pytrace=False,
        )
    pid = davfs_pid(mountpoint)
    try:
        yield mountpoint
    finally:
        unmount(mountpoint, pid)


def unmount(mountpoint: Path, pid: int | None) -> None:
    """Unmount; umount blocks until davfs2 has sent its cache, then the daemon exits."""
    done = subprocess.run(
        ["umount", str(mountpoint)], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        subprocess.run(["umount", "-l", str(mountpoint)], timeout=30, check=False)
        pytest.fail(f"umount failed: {done.stderr.strip()}", pytrace=False)
    if pid is not None and not wait_gone(pid, 60):
        pytest.fail(f"mount.davfs (pid {pid}) still runs 60 s after umount")


def shell(mountpoint: Path, script: str) -> str:
    """Run one shell command line inside the mount with plain tools."""
    return run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=mountpoint, timeout=60
    ).stdout


def server_tree(session, root_url: str) -> dict[str, str | None]:
    """Every member below ``root_url`` by path: its ETag for files, None for folders."""
    answer = session.request(
        "PROPFIND",
        root_url + "/",
        headers={"Depth": "infinity"},
        data='<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop>'
        "<d:getetag/><d:resourcetype/></d:prop></d:propfind>",
    )
    assert answer.status_code == 207, answer.text
    prefix = unquote(urlsplit(root_url).path).rstrip("/") + "/"
    out: dict[str, str | None] = {}
    for response in etree.fromstring(answer.content).findall("d:response", DAV_NS):
        href = unquote(response.findtext("d:href", namespaces=DAV_NS))
        name = href.removeprefix(prefix).rstrip("/")
        if not name:
            continue
        folder = response.find(".//d:resourcetype/d:collection", DAV_NS) is not None
        out[name] = (
            None if folder else response.findtext(".//d:getetag", namespaces=DAV_NS)
        )
    return out


def davfs2_index(cache: Path) -> etree._Element:
    indexes = list(cache.glob("*/index"))
    assert len(indexes) == 1, f"davfs2 cache index: {indexes}"
    return etree.parse(str(indexes[0])).getroot()


@pytest.mark.clients
def test_davfs2_mount_with_shell_tools_keeps_every_edit(
    live, alice, tmp_path, davfs2_cache
):
    dav = live.dav()
    alice.put(f"{dav}/existing.txt", data=b"from the server\n")
    alice.request("MKCOL", f"{dav}/docs")
    alice.put(f"{dav}/docs/report.txt", data=b"old report, longer than the new one\n")
    local = tmp_path / "local"
    (local / "nested" / "deeper").mkdir(parents=True)
    (local / "a.txt").write_bytes(b"alpha\n")
    (local / "remove me.txt").write_bytes(b"doomed\n")
    (local / "nested" / "größe.bin").write_bytes(BIG)
    (local / "nested" / "deeper" / "z.txt").write_bytes(b"zulu\n")

    with davfs2_mount(dav + "/", tmp_path, davfs2_cache) as mnt:
        assert shell(mnt, "cat existing.txt") == "from the server\n"
        shell(mnt, 'mkdir -p "new/deep er/deepest"')
        shell(mnt, f'cp -r "{local}" "copied tree"')
        shell(mnt, 'mv "copied tree/a.txt" "copied tree/renamed a.txt"')
        shell(mnt, 'mv new "moved new"')
        shell(mnt, 'rm "copied tree/remove me.txt"')
        shell(mnt, "echo appended >> existing.txt")
        shell(mnt, "printf 'new report' > docs/report.txt")
        shell(mnt, 'echo one > "moved new/log.txt"; echo two >> "moved new/log.txt"')
        assert shell(mnt, "cat existing.txt") == "from the server\nappended\n"
        assert shell(mnt, "stat -c %s existing.txt").strip() == "25"
        assert shell(mnt, "stat -c %s docs/report.txt").strip() == "10"
        assert (
            shell(mnt, f'cmp "copied tree/nested/größe.bin" "{local}/nested/größe.bin"')
            == ""
        )
        assert shell(mnt, "ls -A lost+found") == ""

    expected_files = {
        "existing.txt": b"from the server\nappended\n",
        "docs/report.txt": b"new report",
        "copied tree/renamed a.txt": b"alpha\n",
        "copied tree/nested/größe.bin": BIG,
        "copied tree/nested/deeper/z.txt": b"zulu\n",
        "moved new/log.txt": b"one\ntwo\n",
    }
    expected_folders = {
        "docs",
        "copied tree",
        "copied tree/nested",
        "copied tree/nested/deeper",
        "moved new",
        "moved new/deep er",
        "moved new/deep er/deepest",
    }
    tree = server_tree(alice, dav)
    assert {name for name, etag in tree.items() if etag is None} == expected_folders
    assert {name for name, etag in tree.items() if etag is not None} == set(
        expected_files
    )
    for name, content in expected_files.items():
        assert alice.get(f"{dav}/{name}").content == content, name

    index = davfs2_index(davfs2_cache)
    parked = index.findall("x:backup/x:reg", DAVFS_NS)
    assert parked == [], "davfs2 parked files in lost+found"
    # davfs2 trusts its cached copy while the ETag stays the same: each must
    # be the server's current one.
    prefix = unquote(urlsplit(dav).path).rstrip("/") + "/"
    cached = {
        entry.findtext("x:path", namespaces=DAVFS_NS).removeprefix(prefix): (
            entry.findtext("x:etag", namespaces=DAVFS_NS)
        )
        for entry in index.iter("{http://dav.sf.net/}reg")
    }
    assert cached, "davfs2 cached no file"
    assert cached == {name: tree[name] for name in cached}
