"""The benchmark's HTTP client: one persistent connection per client process.

Bodies are drained into a reused buffer, so the client copies each byte once
and allocates nothing per request; the 1 GiB transfers use curl instead.
"""

from __future__ import annotations

import http.client
import multiprocessing
import resource
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    client_cpu: float  # the client processes' CPU seconds per wall second


def _client(
    server: Server,
    index: int,
    task: Callable[[Dav, int], int],
    barrier: Any,
    answers: Any,
) -> None:
    """One client process: warm its connection, wait for the start, run, report."""
    dav = Dav(server)
    try:
        dav.warm()
        barrier.wait(timeout=TIMEOUT)
        cpu = _own_cpu()
        count = task(dav, index)
        answers.send(("ok", (count, _own_cpu() - cpu)))
    except BaseException as error:  # noqa: BLE001 - reported to the parent
        barrier.abort()  # the others and the parent stop waiting at once
        answers.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        dav.close()
        answers.close()


def run_parallel(
    server: Server, clients: int, task: Callable[[Dav, int], int]
) -> Parallel:
    """Run ``task(dav, index)`` in ``clients`` processes, started together.

    Processes rather than threads: one interpreter's lock would cap the client
    at one core, below what nginx serves.
    """
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(clients + 1)
    pipes = [context.Pipe(duplex=False) for _ in range(clients)]
    processes = [
        context.Process(
            target=_client, args=(server, index, task, barrier, pipes[index][1])
        )
        for index in range(clients)
    ]
    for process in processes:
        process.start()
    try:
        try:
            barrier.wait(timeout=TIMEOUT)
        except threading.BrokenBarrierError:
            raise BenchError(f"{server.name}: {_first_error(pipes)}") from None
        started = time.perf_counter()
        answers = [_answer(server, receiver) for receiver, _ in pipes]
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
    cpu = sum(answer[1] for answer in answers)
    return Parallel(elapsed, sum(answer[0] for answer in answers), cpu / elapsed)


def _answer(server: Server, receiver: Any) -> tuple[int, float]:
    if not receiver.poll(TIMEOUT * 2):
        raise BenchError(f"{server.name}: a client still ran after {TIMEOUT * 2} s")
    outcome, value = receiver.recv()
    if outcome != "ok":
        raise BenchError(f"{server.name}: client failed: {value}")
    return int(value[0]), float(value[1])


def _first_error(pipes: list[Any]) -> str:
    """The failure that broke the start, rather than the others' broken barrier."""
    errors = []
    for receiver, _ in pipes:
        if receiver.poll(10):
            outcome, value = receiver.recv()
            if outcome != "ok":
                errors.append(str(value))
    errors.sort(key=lambda text: text.startswith("BrokenBarrierError"))
    return errors[0] if errors else "a client did not start"


def _own_cpu() -> float:
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
