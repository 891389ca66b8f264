"""How fast Grove sees what other programs write:
``python -m bench.watch [--writes N] [--burst N]``.

Runs the real ``grove serve`` (watcher on) with one user, then measures

- latency: N times, a file is written on disk in a subfolder and the
  parent folder's ETag (which only Grove's bookkeeping changes, not the
  filesystem's own mtime) is polled over HTTP (PROPFIND Depth 0, every 10 ms) until it
  changes; the median and the 99th percentile of those times;
- a burst: N files are written into one new folder as fast as Python can,
  while a second client keeps writing single files into another folder and
  timing each the same way (does Grove stay responsive?); reported are the
  time until the burst folder's ``oc:size`` is in step and a Depth 1 listing
  shows every file, and the latency figures of the writes meanwhile.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from lxml import etree

from bench.scan import grove
from tests.app.processes import grove_serve

USER, PASSWORD = "alice", "correct horse battery"
NS = {"d": "DAV:", "oc": "http://owncloud.org/ns"}
BODY = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" '
    'xmlns:oc="http://owncloud.org/ns"><d:prop><d:getetag/><oc:size/></d:prop>'
    "</d:propfind>"
)


def root_state(session: requests.Session, url: str) -> tuple[str, int]:
    answer = session.request("PROPFIND", url, data=BODY, headers={"Depth": "0"})
    answer.raise_for_status()
    tree = etree.fromstring(answer.content)
    return tree.findtext(".//d:getetag", "", NS), int(
        tree.findtext(".//oc:size", "0", NS)
    )


def one_write(session: requests.Session, folder_url: str, path: Path) -> float:
    """Write ``path`` on disk; seconds until ``folder_url``'s ETag changes."""
    before, _ = root_state(session, folder_url)
    started = time.monotonic()
    path.write_bytes(b"written on disk")
    while root_state(session, folder_url)[0] == before:
        if time.monotonic() - started > 30:
            raise SystemExit(f"{path.name}: no ETag change within 30 s")
        time.sleep(0.01)
    return time.monotonic() - started


def latency(
    session: requests.Session, url: str, root: Path, writes: int
) -> list[float]:
    (root / "latency" / "inner").mkdir(parents=True)
    folder_url = f"{url}latency/"
    root_state(session, folder_url)
    return [
        one_write(session, folder_url, root / "latency" / "inner" / f"w{index:05d}")
        for index in range(writes)
    ]


def listed(session: requests.Session, url: str) -> int:
    answer = session.request("PROPFIND", url, data=BODY, headers={"Depth": "1"})
    answer.raise_for_status()
    return len(etree.fromstring(answer.content).findall("d:response", NS)) - 1


def burst(
    session: requests.Session, url: str, root: Path, files: int
) -> dict[str, Any]:
    """Write ``files`` files into a new folder while another client writes
    single files into a second folder and times how soon each shows."""
    during: list[float] = []
    stop = threading.Event()
    (root / "probe" / "inner").mkdir(parents=True)

    def probe() -> None:
        other = requests.Session()
        other.auth = (USER, PASSWORD)
        index = 0
        while not stop.is_set():
            path = root / "probe" / "inner" / f"p{index:05d}.txt"
            during.append(one_write(other, f"{url}probe/", path))
            index += 1
            time.sleep(0.2)

    _, size_before = root_state(session, url)
    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    folder = root / "burst"
    started = time.monotonic()
    folder.mkdir()
    for index in range(files):
        (folder / f"b{index:06d}.txt").write_bytes(b"x" * 100)
    written = time.monotonic() - started
    while root_state(session, f"{url}burst/")[1] != files * 100:
        if time.monotonic() - started > 600:
            raise SystemExit("burst: sizes not in step within 600 s")
        time.sleep(0.05)
    sized = time.monotonic() - started
    stop.set()
    prober.join()
    count = listed(session, f"{url}burst/")
    if count != files:
        raise SystemExit(f"burst: {count} of {files} files listed")
    _ = size_before
    return {"written": written, "sized": sized, "during": sorted(during)}


def p99(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--burst", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grove-watch-bench-") as temp:
        data = Path(temp) / "data"
        grove("user", "add", USER, "--password-stdin", "--data", data, stdin=PASSWORD)
        root = data / "storage" / "users" / USER
        env = {"GROVE_ADMIN_PASSWORD": "admin-password-1"}
        with grove_serve(data, Path(temp) / "serve.log", **env) as server:
            session = requests.Session()
            session.auth = (USER, PASSWORD)
            url = server.dav(USER) + "/"
            times = latency(session, url, root, args.writes)
            found = burst(session, url, root, args.burst)
    during = found["during"]
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(f"external write -> changed folder ETag, {len(times)} writes:")
    median = statistics.median(times)
    print(f"  median {median * 1000:.0f} ms, p99 {p99(times) * 1000:.0f} ms")
    print(f"burst of {args.burst} files written by a program:")
    print(f"  written in {found['written']:.1f} s")
    print(f"  folder size in step after {found['sized']:.1f} s (every file listed)")
    print(
        f"  {len(during)} single writes elsewhere meanwhile: median "
        f"{statistics.median(during) * 1000:.0f} ms, p99 {p99(during) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
