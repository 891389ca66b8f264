"""The upload pipeline's cost: ``python -m bench.pipeline [--quick]``.

PUTs 2,000 files of 4 KiB one after the other and one file of 1 GiB into a
Grove served in this process (cheroot, loopback), in three modes:

- ``off``: the pipeline's steps removed (what an upload cost before it);
- ``on``: every step, no scanner (the default configuration);
- ``on+clamd``: every step and a private clamd (Grove's EICAR signature only,
  so the number is the cost of streaming the content to clamd, not of a full
  signature database).

Prints a Markdown table (median of the repeats), the peak RSS growth of the
process during the 1 GiB upload (memory stays flat: content is streamed) and
clamd's own peak resident memory. ``--files N --big-mib M`` shrink the run
for a shared machine.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from cheroot import wsgi

from app import pipeline, users
from app.config import load_settings
from app.factory import create_app

PASSWORD = "bench-password-1"
AUTH = "Basic " + __import__("base64").b64encode(f"bench:{PASSWORD}".encode()).decode()


def _status(field: str, pid: str = "self") -> int:
    """A size from /proc/<pid>/status, in bytes (0 if it cannot be read)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return 0


def _rss() -> int:
    return _status("VmRSS")


class _Peak(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = _rss()
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, _rss())
            time.sleep(0.05)


def _put(port: int, path: str, body: object, length: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.blocksize = 1024 * 1024
    connection.request(
        "PUT",
        path,
        body=body,  # type: ignore[arg-type]
        headers={"Authorization": AUTH, "Content-Length": str(length)},
    )
    answer = connection.getresponse()
    answer.read()
    connection.close()
    if answer.status not in (201, 204):
        raise SystemExit(f"PUT {path}: {answer.status}")


def _serve(data: Path, mode: str, clamd_socket: str) -> tuple[wsgi.Server, int]:
    overrides: dict[str, object] = {
        "data": data,
        "admin_password": PASSWORD,
        "durability": "none",
        "scan_max_bytes": 2 * 1024**3,
    }
    if mode == "on+clamd":
        overrides.update(scanner="clamd", clamd_address=clamd_socket)
    settings = load_settings(environ={}, overrides=overrides)
    app = create_app(settings)
    if mode == "off":
        pipeline._pipelines[settings.data.resolve()] = pipeline.Pipeline(steps=())
    users.add(settings.storage_dir, "bench", PASSWORD)
    sock = __import__("socket").socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = wsgi.Server(("127.0.0.1", port), app, numthreads=8, timeout=600)
    server.prepare()
    threading.Thread(target=server.serve, daemon=True).start()
    return server, port


def run(
    mode: str, work: Path, clamd_socket: str, small: int, big: int
) -> dict[str, float]:
    data = work / f"data-{mode}"
    server, port = _serve(data, mode, clamd_socket)
    try:
        payload = os.urandom(4096)
        # The first request pays for imports and caches: not counted.
        _put(port, "/remote.php/dav/files/bench/warm-up.bin", payload, 4096)
        start = time.perf_counter()
        for number in range(small):
            _put(port, f"/remote.php/dav/files/bench/s{number}.bin", payload, 4096)
        small_s = time.perf_counter() - start
        source = work.parent / "big.bin"
        peak = _Peak()
        before = _rss()
        peak.start()
        start = time.perf_counter()
        with open(source, "rb") as handle:
            _put(port, "/remote.php/dav/files/bench/big.bin", handle, big)
        big_s = time.perf_counter() - start
        peak.running = False
        peak.join()
        return {"small": small_s, "big": big_s, "rss": (peak.peak - before) / 2**20}
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline")
    parser.add_argument("--quick", action="store_true", help="200 files, 64 MiB")
    parser.add_argument("--files", type=int, help="number of 4 KiB files")
    parser.add_argument("--big-mib", type=int, help="size of the big file in MiB")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    small, big = (200, 64 * 2**20) if args.quick else (2000, 2**30)
    small = args.files or small
    big = args.big_mib * 2**20 if args.big_mib else big
    from tests.pipeline.daemons import start_clamd

    with tempfile.TemporaryDirectory(prefix="grove-bench-pipeline-") as folder:
        work = Path(folder)
        with open(work / "big.bin", "wb") as handle:
            for _ in range(big // 2**20):
                handle.write(os.urandom(2**20))
        clamd = start_clamd(work / "clamd", stream_max="2047M")
        results: dict[str, list[dict[str, float]]] = {}
        try:
            for repeat in range(args.repeats):
                for mode in ("off", "on", "on+clamd"):
                    print(f"repeat {repeat + 1}: {mode}", file=sys.stderr, flush=True)
                    results.setdefault(mode, []).append(
                        run(mode, work / f"r{repeat}", str(clamd.socket), small, big)
                    )
            clamd_peak = _status("VmHWM", str(clamd.process.pid)) / 2**20
        finally:
            clamd.stop()
    print(
        f"| mode | PUT {small} x 4 KiB (s) | per file (ms) | PUT {big >> 20} MiB (s) "
        "| MiB/s | RSS growth during the big PUT (MiB) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for mode, runs in results.items():
        s = statistics.median(r["small"] for r in runs)
        b = statistics.median(r["big"] for r in runs)
        m = max(r["rss"] for r in runs)
        print(
            f"| {mode} | {s:.2f} | {s / small * 1000:.2f} | {b:.2f} "
            f"| {big / 2**20 / b:.0f} | {m:.0f} |"
        )
    print(f"\nclamd's peak resident memory over the run: {clamd_peak:.0f} MiB")


if __name__ == "__main__":
    main()
