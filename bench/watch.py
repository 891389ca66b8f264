"""How fast Grove sees what other programs write:
``python -m bench.watch [--writes N] [--burst N]``.

Runs the real ``grove serve`` (watcher on) with one user, then measures

- latency: N times, a file is written on disk in a folder and the space
  root's ETag is polled over HTTP (PROPFIND Depth 0, every 10 ms) until it
  changes; the median and the 99th percentile of those times;
- a burst: N files are written into one new folder as fast as Python can,
  while a second client times PROPFIND Depth 0 requests (is Grove still
  responsive?); reported are the time until the root's ``oc:size`` matches
  the disk and a Depth 1 listing shows every file, and the slowest PROPFIND
  during the burst.
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


def latency(
    session: requests.Session, url: str, root: Path, writes: int
) -> list[float]:
    (root / "latency").mkdir()
    times = []
    for index in range(writes):
        before, _ = root_state(session, url)
        started = time.monotonic()
        (root / "latency" / f"w{index:05d}.txt").write_bytes(b"written on disk")
        while root_state(session, url)[0] == before:
            if time.monotonic() - started > 30:
                raise SystemExit(f"write {index}: no ETag change within 30 s")
            time.sleep(0.01)
        times.append(time.monotonic() - started)
    return times


def listed(session: requests.Session, url: str) -> int:
    answer = session.request("PROPFIND", url, data=BODY, headers={"Depth": "1"})
    answer.raise_for_status()
    return len(etree.fromstring(answer.content).findall("d:response", NS)) - 1


def burst(
    session: requests.Session, url: str, root: Path, files: int
) -> dict[str, float]:
    slowest = [0.0]
    stop = threading.Event()

    def probe() -> None:
        other = requests.Session()
        other.auth = (USER, PASSWORD)
        while not stop.is_set():
            started = time.monotonic()
            root_state(other, url)
            slowest[0] = max(slowest[0], time.monotonic() - started)
            time.sleep(0.05)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    _, size_before = root_state(session, url)
    folder = root / "burst"
    started = time.monotonic()
    folder.mkdir()
    for index in range(files):
        (folder / f"b{index:06d}.txt").write_bytes(b"x" * 100)
    written = time.monotonic() - started
    while root_state(session, url)[1] != size_before + files * 100:
        if time.monotonic() - started > 600:
            raise SystemExit("burst: sizes not in step within 600 s")
        time.sleep(0.05)
    sized = time.monotonic() - started
    count = listed(session, f"{url}burst/")
    stop.set()
    prober.join()
    if count != files:
        raise SystemExit(f"burst: {count} of {files} files listed")
    return {"written": written, "sized": sized, "slowest": slowest[0]}


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
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(f"external write -> changed root ETag, {len(times)} writes:")
    print(f"  median {statistics.median(times) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
    print(f"burst of {args.burst} files written by a program:")
    print(f"  written in {found['written']:.1f} s")
    print(f"  root size in step after {found['sized']:.1f} s (every file listed)")
    print(f"  slowest PROPFIND Depth 0 meanwhile: {found['slowest'] * 1000:.0f} ms")


if __name__ == "__main__":
    sys.exit(main())
