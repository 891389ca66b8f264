"""The watcher at the kernel's limits: too few inotify watches, and an event queue
that overflows. Both run a real ``grove serve`` against the real kernel."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import requests
from lxml import etree

from tests.app.processes import grove_serve
from tests.app.test_scan import ADMIN, add_alice
from tests.conftest import PASSWORD
from tests.dav.test_external_changes import BODY, NS

FOLDERS = 40


def names_in(url: str) -> set[str]:
    """The names a Depth 1 PROPFIND of ``url`` lists (the folder itself left out)."""
    answer = requests.request(
        "PROPFIND",
        url,
        data=BODY,
        headers={"Depth": "1"},
        auth=("alice", PASSWORD),
        timeout=60,
    )
    assert answer.status_code == 207, answer.text
    hrefs = etree.fromstring(answer.content).findall(".//d:href", NS)
    return {h.text.rstrip("/").rsplit("/", 1)[-1] for h in hrefs[1:]}


def wait_for(url: str, wanted: set[str], deadline: float, log: str) -> set[str]:
    while True:
        seen = names_in(url)
        if wanted <= seen:
            return seen
        assert time.monotonic() < deadline, (sorted(wanted - seen)[:5], log)
        time.sleep(0.5)


def test_too_few_watches_are_logged_and_covered_by_periodic_scans(tmp_path):
    """In a user namespace whose watch limit is lowered (root's is global and
    shared with the rest of the machine), the server cannot watch every folder:
    it logs the setting to raise and still finds files written in the
    unwatched folders by scanning."""
    data = tmp_path / "data"
    root = add_alice(data)
    for number in range(FOLDERS):
        (root / f"f{number:02d}").mkdir()
    lowered = (
        "echo 10 > /proc/sys/user/max_inotify_watches && "
        'cat /proc/sys/user/max_inotify_watches >&2 && exec "$0" "$@"'
    )
    prefix = ["unshare", "--user", "--map-root-user", "sh", "-c", lowered]
    env = {**ADMIN, "GROVE_SCAN_INTERVAL": "2"}
    with grove_serve(data, tmp_path / "serve.log", prefix=prefix, **env) as server:
        url = server.dav("alice")
        deadline = time.monotonic() + 20
        while "watch limit" not in server.stderr():
            assert time.monotonic() < deadline, server.stderr()
            time.sleep(0.2)
        log = server.stderr()
        assert "fs.inotify.max_user_watches" in log
        assert "watch limit (10)" in log
        for number in range(FOLDERS):
            (root / f"f{number:02d}" / "late.txt").write_bytes(b"written on disk")
        deadline = time.monotonic() + 30
        for number in range(FOLDERS):
            wait_for(f"{url}/f{number:02d}/", {"late.txt"}, deadline, server.stderr())


def test_a_queue_overflow_is_followed_by_a_full_scan(tmp_path):
    """The server is stopped (SIGSTOP) so that it reads no events while a program
    makes more changes than the kernel queues (16,384 events here); after it
    continues, the overflow makes it scan, and every file shows."""
    queued = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    count = queued // 2 + 500  # each new file raises create, modify and close
    data = tmp_path / "data"
    root = add_alice(data)
    (root / "burst").mkdir()
    with grove_serve(data, tmp_path / "serve.log", **ADMIN) as server:
        url = server.dav("alice")
        assert names_in(f"{url}/burst/") == set()
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            for number in range(count):
                (root / "burst" / f"n{number:05d}.txt").write_bytes(b"x")
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        wanted = {f"n{number:05d}.txt" for number in range(count)}
        wait_for(f"{url}/burst/", wanted, time.monotonic() + 60, server.stderr())
        assert "inotify event queue overflowed" in server.stderr()
