"""The workloads: what each one sends, what it measures, and the files it needs.

Every workload runs against one server and answers its metrics for one
repeat. Fixtures (folders of many files) are written straight to each
server's folder on disk before the first repeat and listed once over HTTP,
so Grove has given them ids before anything is timed.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.client import Dav, curl, run_parallel
from bench.memory import PeakRss
from bench.servers import BenchError, Server

MB = 1_000_000
MIB = 1024 * 1024
_RESPONSE = re.compile(rb"<(?:[\w.-]+:)?response[\s>]")

# What a sync client asks for in a listing (rclone's owncloud-vendor body plus
# the ids, ETag and size the ownCloud/Nextcloud clients read). nginx and plain
# WsgiDAV answer the oc: properties with a 404 propstat.
PROPFIND_BODY = b"""<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
 <d:prop>
  <d:displayname/><d:getlastmodified/><d:getcontentlength/><d:resourcetype/>
  <d:getcontenttype/><d:getetag/>
  <oc:id/><oc:fileid/><oc:permissions/><oc:checksums/><oc:size/>
 </d:prop>
</d:propfind>
"""
LISTING_HEADERS = {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}


@dataclass(frozen=True)
class Sizes:
    big: int = 1024 * MIB
    medium: int = 4 * MIB
    medium_clients: int = 16
    medium_rounds: int = 8
    listing: int = 10_000
    small_listing: int = 100
    listing_clients: int = 8
    listing_seconds: float = 3.0
    listing_tries: int = 3
    small_puts: int = 2000
    small_size: int = 4096
    put_clients: int = 8
    move_files: int = 10_000
    copy: int = 100 * MIB


QUICK = Sizes(
    big=64 * MIB,
    medium_rounds=2,
    listing=1000,
    listing_seconds=1.0,
    small_puts=200,
    move_files=1000,
    copy=16 * MIB,
)


@dataclass(frozen=True)
class Metric:
    workload: str
    key: str
    label: str
    unit: str
    better: str | None  # "higher", "lower", or None: no ratio (memory, client load)
    shown: bool = True


def _size(count: int) -> str:
    return (
        f"{count // 1024 // MIB} GiB" if count >= 1024 * MIB else f"{count // MIB} MiB"
    )


def metrics(sizes: Sizes) -> list[Metric]:
    """The rows of the table, in order."""
    big = _size(sizes.big)
    return [
        Metric("get_big", "get_big", f"GET {big}", "MB/s", "higher"),
        Metric("get_big", "get_big_rss", f"GET {big}: server RSS growth", "MiB", None),
        Metric("put_big", "put_big", f"PUT {big}", "MB/s", "higher"),
        Metric("put_big", "put_big_rss", f"PUT {big}: server RSS growth", "MiB", None),
        Metric(
            "get_medium",
            "get_medium",
            f"{sizes.medium_clients} concurrent GETs of {_size(sizes.medium)}",
            "MB/s",
            "higher",
        ),
        Metric(
            "propfind_big",
            "propfind_big",
            f"PROPFIND Depth 1, {sizes.listing:,} files",
            "s",
            "lower",
        ),
        Metric(
            "propfind_small",
            "propfind_small",
            f"PROPFIND Depth 1, {sizes.small_listing} entries, "
            f"concurrency {sizes.listing_clients}",
            "req/s",
            "higher",
        ),
        Metric(
            "put_small_seq",
            "put_small_seq",
            f"{sizes.small_puts:,} PUTs of {sizes.small_size // 1024} KiB, sequential",
            "req/s",
            "higher",
        ),
        Metric(
            "put_small_par",
            "put_small_par",
            f"{sizes.small_puts:,} PUTs of {sizes.small_size // 1024} KiB, "
            f"concurrency {sizes.put_clients}",
            "req/s",
            "higher",
        ),
        Metric(
            "move",
            "move",
            f"MOVE of a folder of {sizes.move_files:,} files",
            "ms",
            "lower",
        ),
        Metric(
            "copy",
            "copy",
            f"COPY of a {_size(sizes.copy)} file",
            "ms",
            "lower",
        ),
        Metric(
            "get_medium",
            "get_medium_client",
            "client CPU, concurrent GETs",
            "cores",
            None,
            False,
        ),
        Metric(
            "propfind_small",
            "propfind_small_client",
            "client CPU, small PROPFINDs",
            "cores",
            None,
            False,
        ),
        Metric(
            "put_small_par",
            "put_small_par_client",
            "client CPU, concurrent PUTs",
            "cores",
            None,
            False,
        ),
    ]


@dataclass
class Context:
    """What the workloads share: sizes, source files, the repeat number."""

    sizes: Sizes
    work: Path
    big_source: Path
    small_body: bytes
    repeat: int = 0


def make_context(sizes: Sizes, work: Path) -> Context:
    source = work / "source.bin"
    block = os.urandom(MIB)
    with open(source, "wb") as handle:
        for index in range(sizes.big // MIB):
            # Vary each block so no layer can deduplicate or compress the body.
            handle.write(index.to_bytes(8, "little") + block[8:])
    return Context(sizes, work, source, os.urandom(sizes.small_size))


# --- fixtures ----------------------------------------------------------------


def _fill(folder: Path, count: int, content: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (folder / f"f{index:05d}.txt").write_bytes(content)


def _listing(dav: Dav, path: str, *, keep: bool = False) -> tuple[int, bytes]:
    return dav.request(
        "PROPFIND",
        path,
        body=PROPFIND_BODY,
        headers=LISTING_HEADERS,
        expect=(207,),
        keep=keep,
    )


def _count_responses(dav: Dav, path: str) -> int:
    _, body = _listing(dav, path, keep=True)
    return len(_RESPONSE.findall(body))


def prepare(server: Server, context: Context) -> None:
    """Write the fixture folders into the server's tree and list them once."""
    sizes = context.sizes
    root = server.root
    _fill(root / "list-big", sizes.listing, b"x" * 100)
    _fill(root / "list-small", sizes.small_listing, b"x" * 100)
    _fill(root / "move" / "a", sizes.move_files, b"x" * 100)
    medium = os.urandom(sizes.medium)
    with open(root / "copy-source.bin", "wb") as handle:
        for _ in range(sizes.copy // MIB):
            handle.write(os.urandom(MIB))
    (root / "medium").mkdir()
    for index in range(sizes.medium_clients):
        (root / "medium" / f"m{index:02d}.bin").write_bytes(medium)

    dav = Dav(server)
    try:
        for path, count in (
            ("list-big/", sizes.listing),
            ("list-small/", sizes.small_listing),
            ("move/a/", sizes.move_files),
            ("medium/", sizes.medium_clients),
        ):
            listed = _count_responses(dav, path)
            if listed != count + 1:
                raise BenchError(f"{server.name}: {path} lists {listed - 1} of {count}")
        _listing(dav, "")  # the top level, with the file COPY reads
    finally:
        dav.close()


# --- workloads ---------------------------------------------------------------

Result = dict[str, float]


def _sign_in(server: Server) -> None:
    # Grove remembers a verified password for a minute; verifying it again
    # (argon2, 64 MiB) inside a transfer would be counted as transfer memory.
    dav = Dav(server)
    try:
        dav.warm()
    finally:
        dav.close()


def put_big(server: Server, context: Context) -> Result:
    _sign_in(server)
    with PeakRss(server.pids) as memory:
        done = curl(server, "PUT", "big.bin", upload=context.big_source)
    stored = (server.root / "big.bin").stat().st_size
    if done.size != context.sizes.big or stored != context.sizes.big:
        raise BenchError(f"{server.name}: PUT sent {done.size}, stored {stored} bytes")
    return {"put_big": done.size / done.seconds / MB, "put_big_rss": memory.growth_mib}


def get_big(server: Server, context: Context) -> Result:
    _sign_in(server)
    with PeakRss(server.pids) as memory:
        done = curl(server, "GET", "big.bin")
    if done.size != context.sizes.big:
        raise BenchError(f"{server.name}: GET got {done.size} bytes")
    return {"get_big": done.size / done.seconds / MB, "get_big_rss": memory.growth_mib}


def get_medium(server: Server, context: Context) -> Result:
    sizes = context.sizes

    def task(dav: Dav, index: int) -> int:
        received = 0
        for _ in range(sizes.medium_rounds):
            received += dav.request("GET", f"medium/m{index:02d}.bin")[0]
        return received

    run = run_parallel(server, sizes.medium_clients, task)
    expected = sizes.medium * sizes.medium_clients * sizes.medium_rounds
    if run.count != expected:
        raise BenchError(
            f"{server.name}: concurrent GETs got {run.count} of {expected} bytes"
        )
    return {
        "get_medium": run.count / run.elapsed / MB,
        "get_medium_client": run.client_cpu,
    }


def propfind_big(server: Server, context: Context) -> Result:
    dav = Dav(server)
    try:
        dav.warm()
        times = []
        for _ in range(context.sizes.listing_tries):
            started = time.perf_counter()
            _listing(dav, "list-big/")
            times.append(time.perf_counter() - started)
    finally:
        dav.close()
    return {"propfind_big": statistics.median(times)}


def propfind_small(server: Server, context: Context) -> Result:
    sizes = context.sizes

    def task(dav: Dav, index: int) -> int:
        # Each client starts at the common barrier and stops asking at its
        # deadline; the rate divides by the span until the last one finished.
        deadline = time.perf_counter() + sizes.listing_seconds
        done = 0
        while time.perf_counter() < deadline:
            _listing(dav, "list-small/")
            done += 1
        return done

    run = run_parallel(server, sizes.listing_clients, task)
    return {
        "propfind_small": run.count / run.elapsed,
        "propfind_small_client": run.client_cpu,
    }


def _put_folder(server: Server, name: str) -> str:
    dav = Dav(server)
    try:
        dav.request("MKCOL", name, expect=(201,))
    finally:
        dav.close()
    return name


def put_small_seq(server: Server, context: Context) -> Result:
    sizes = context.sizes
    folder = _put_folder(server, f"puts-{context.repeat}-seq/")

    def task(dav: Dav, index: int) -> int:
        for number in range(sizes.small_puts):
            dav.request(
                "PUT",
                f"{folder}f{number:05d}.bin",
                body=context.small_body,
                expect=(201,),
            )
        return sizes.small_puts

    run = run_parallel(server, 1, task)
    return {"put_small_seq": run.count / run.elapsed}


def put_small_par(server: Server, context: Context) -> Result:
    sizes = context.sizes
    folder = _put_folder(server, f"puts-{context.repeat}-par/")
    each = sizes.small_puts // sizes.put_clients

    def task(dav: Dav, index: int) -> int:
        for number in range(each):
            dav.request(
                "PUT",
                f"{folder}c{index}-{number:05d}.bin",
                body=context.small_body,
                expect=(201,),
            )
        return each

    run = run_parallel(server, sizes.put_clients, task)
    return {
        "put_small_par": run.count / run.elapsed,
        "put_small_par_client": run.client_cpu,
    }


def move(server: Server, context: Context) -> Result:
    source, target = ("a", "b") if context.repeat % 2 == 0 else ("b", "a")
    dav = Dav(server)
    try:
        dav.warm()
        headers = {"Destination": server.url(f"move/{target}/"), "Overwrite": "F"}
        started = time.perf_counter()
        dav.request("MOVE", f"move/{source}/", headers=headers, expect=(201,))
        elapsed = time.perf_counter() - started
    finally:
        dav.close()
    moved = len(os.listdir(server.root / "move" / target))
    if moved != context.sizes.move_files or (server.root / "move" / source).exists():
        raise BenchError(f"{server.name}: MOVE left {moved} files in move/{target}")
    return {"move": elapsed * 1000}


def copy(server: Server, context: Context) -> Result:
    """COPY of one large file to a new name (removed again afterwards)."""
    target = server.root / f"copy-{context.repeat}.bin"
    dav = Dav(server)
    try:
        dav.warm()
        headers = {"Destination": server.url(target.name), "Overwrite": "F"}
        started = time.perf_counter()
        dav.request("COPY", "copy-source.bin", headers=headers, expect=(201,))
        elapsed = time.perf_counter() - started
    finally:
        dav.close()
    copied = target.stat().st_size
    target.unlink()
    if copied != context.sizes.copy:
        raise BenchError(f"{server.name}: COPY wrote {copied} bytes")
    return {"copy": elapsed * 1000}


Workload = Callable[[Server, Context], Result]

# The order of one repeat; PUT of the big file comes first because GET reads it.
WORKLOADS: dict[str, Workload] = {
    "put_big": put_big,
    "get_big": get_big,
    "get_medium": get_medium,
    "propfind_big": propfind_big,
    "propfind_small": propfind_small,
    "put_small_seq": put_small_seq,
    "put_small_par": put_small_par,
    "move": move,
    "copy": copy,
}
