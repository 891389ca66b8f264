"""The benchmark's HTTP client: one persistent connection per thread.

Bodies are drained into a reused buffer, so the client copies each byte once
and allocates nothing per request; the 1 GiB transfers use curl instead.
"""

from __future__ import annotations

import http.client
import resource
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.servers import BenchError, Server

TIMEOUT = 300.0
DRAIN_BLOCK = 1024 * 1024


class Dav:
    """A WebDAV connection to one server, signed in as the bench user."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.connection = http.client.HTTPConnection(
            "127.0.0.1", server.port, timeout=TIMEOUT
        )
        self._buffer = memoryview(bytearray(DRAIN_BLOCK))

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
        keep: bool = False,
    ) -> tuple[int, bytes]:
        """Send one request; answer (bytes received, the body when ``keep``)."""
        sent = {"Authorization": self.server.auth, **(headers or {})}
        self.connection.request(
            method, self.server.base + path, body=body, headers=sent
        )
        response = self.connection.getresponse()
        if response.status not in expect:
            text = response.read()[:300].decode(errors="replace")
            name = self.server.name
            raise BenchError(
                f"{name}: {method} {path!r} answered {response.status}: {text}"
            )
        if keep:
            data = response.read()
            return len(data), data
        received = 0
        while count := response.readinto(self._buffer):
            received += count
        return received, b""

    def warm(self) -> None:
        """One cheap signed-in request, so timing starts on a live connection."""
        self.request("PROPFIND", "", headers={"Depth": "0"}, expect=(207,))

    def close(self) -> None:
        self.connection.close()


@dataclass
class Parallel:
    elapsed: float  # seconds from the common start until the last client finished
    count: int  # sum of what the clients' tasks returned
    client_cpu: float  # the client process's CPU seconds per wall second


def run_parallel(
    server: Server, clients: int, task: Callable[[Dav, int], int]
) -> Parallel:
    """Run ``task(dav, index)`` on ``clients`` warm connections started together."""
    connections = [Dav(server) for _ in range(clients)]
    for connection in connections:
        connection.warm()
    barrier = threading.Barrier(clients + 1)
    counts = [0] * clients
    errors: list[BaseException] = []

    def work(index: int) -> None:
        barrier.wait()
        try:
            counts[index] = task(connections[index], index)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller
            errors.append(error)

    threads = [
        threading.Thread(target=work, args=(i,), daemon=True) for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    cpu_before = _cpu_seconds()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    for connection in connections:
        connection.close()
    if errors:
        raise errors[0]
    if any(thread.is_alive() for thread in threads):
        raise BenchError(f"{server.name}: clients still running after {TIMEOUT * 2} s")
    return Parallel(elapsed, sum(counts), cpu / elapsed)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CurlResult:
    seconds: float
    size: int


def curl(
    server: Server, method: str, path: str, upload: Path | None = None
) -> CurlResult:
    """One large transfer with curl (body to /dev/null, or from ``upload``)."""
    command = [
        "curl",
        "--silent",
        "--show-error",
        "--output",
        "/dev/null",
        "--header",
        f"Authorization: {server.auth}",
        # No "Expect: 100-continue" wait before the body.
        "--header",
        "Expect:",
        "--write-out",
        "%{http_code} %{time_total} %{size_download} %{size_upload}",
    ]
    if upload is not None:
        command += ["--upload-file", str(upload)]
    else:
        command += ["--request", method]
    command.append(server.url(path))
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT * 2)
    if done.returncode != 0:
        raise BenchError(
            f"{server.name}: curl {method} {path!r} failed: {done.stderr.strip()}"
        )
    code, seconds, downloaded, uploaded = done.stdout.split()
    if not code.startswith("2"):
        raise BenchError(f"{server.name}: curl {method} {path!r} answered {code}")
    size = int(float(uploaded if upload is not None else downloaded))
    return CurlResult(float(seconds), size)
