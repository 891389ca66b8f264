"""Malware scanners behind one small interface: none, clamd, or an ICAP server.

A scanner reads the staged content from disk in blocks and streams it to the
daemon, so a file of any size is never held in memory. Its answer is clean or
infected (with the finding); anything else, a refused connection, a timeout or
a daemon that gives up on the stream, raises ``ScannerError``, which the
pipeline never mistakes for clean.

pyclamd is old and unmaintained: it stays inside ``ClamdScanner``.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
from pathlib import Path
from typing import Any, Protocol

from app.pipeline import icap

logger = logging.getLogger(__name__)

CHUNK = 256 * 1024  # bytes per INSTREAM chunk


@dataclasses.dataclass(frozen=True)
class ScanResult:
    infected: bool
    finding: str = ""


CLEAN = ScanResult(infected=False)


class ScannerError(Exception):
    """The scanner could not give an answer (unreachable, timed out, failed)."""


class Scanner(Protocol):
    name: str

    def scan(self, path: Path, size: int) -> ScanResult:
        """Scan the file at ``path`` (``size`` bytes); raise ScannerError."""


class NoScanner:
    """The default: uploads are not scanned (a bare ``make run`` accepts them)."""

    name = "none"

    def scan(self, path: Path, size: int) -> ScanResult:
        return CLEAN


def _address(address: str) -> tuple[str, int] | str:
    """``HOST:PORT`` as a TCP address, anything else as a Unix socket path."""
    host, sep, port = address.rpartition(":")
    if sep and host and port.isdigit() and "/" not in address:
        return host.strip("[]"), int(port)
    return address


class ClamdScanner:
    """clamd's INSTREAM command over its Unix or TCP socket, through pyclamd."""

    name = "clamd"

    def __init__(self, address: str, timeout: float) -> None:
        self.address = _address(address)
        self.timeout = timeout
        # A pyclamd object keeps its socket in an attribute: one per thread.
        self._local = threading.local()

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            client = _pyclamd_client(self.address, self.timeout)
            self._local.client = client
        return client

    def scan(self, path: Path, size: int) -> ScanResult:
        import pyclamd

        try:
            client = self._client()
            with open(path, "rb") as handle:
                answer = client.scan_stream(handle, chunk_size=CHUNK)
        except pyclamd.BufferTooLongError as error:
            raise ScannerError(
                "clamd refused the stream as too long: raise its StreamMaxLength "
                "to at least scan_max_bytes"
            ) from error
        except (pyclamd.ConnectionError, OSError, IndexError) as error:
            # IndexError: pyclamd cannot parse an error line (a reset stream).
            # clamd resets the connection when a stream passes StreamMaxLength.
            self._local.client = None
            raise ScannerError(f"clamd at {self.address!r}: {error}") from error
        if not answer:
            return CLEAN
        status, finding = next(iter(answer.values()))
        if status == "FOUND":
            return ScanResult(infected=True, finding=str(finding))
        raise ScannerError(f"clamd answered {status} {finding}")


class _SendAll(socket.socket):
    """A socket whose ``send`` sends everything.

    pyclamd writes INSTREAM chunks with ``send``; on a socket with a timeout
    (non-blocking inside Python) that may send part of a chunk, after which
    clamd reads the rest as the next length and the scan hangs.
    """

    def send(self, data: Any, flags: int = 0) -> int:
        self.sendall(data, flags)
        return len(data)


def _pyclamd_client(address: tuple[str, int] | str, timeout: float) -> Any:
    import pyclamd

    if isinstance(address, tuple):

        class Network(pyclamd.ClamdNetworkSocket):
            def _init_socket(self) -> None:
                try:
                    self.clamd_socket = _SendAll(socket.AF_INET, socket.SOCK_STREAM)
                    self.clamd_socket.settimeout(self.timeout)
                    self.clamd_socket.connect((self.host, self.port))
                except OSError as error:
                    raise pyclamd.ConnectionError(str(error)) from error

        host, port = address
        return Network(host, port, timeout=timeout)

    class Unix(pyclamd.ClamdUnixSocket):
        def _init_socket(self) -> None:
            try:
                self.clamd_socket = _SendAll(socket.AF_UNIX, socket.SOCK_STREAM)
                self.clamd_socket.settimeout(self.timeout)
                self.clamd_socket.connect(self.unix_socket)
            except OSError as error:
                raise pyclamd.ConnectionError(str(error)) from error

    return Unix(address, timeout=timeout)


class IcapScanner:
    """An ICAP server's RESPMOD service (c-icap's virus_scan and the like)."""

    name = "icap"

    def __init__(self, url: str, timeout: float) -> None:
        self.client = icap.Client(url, timeout=timeout)

    def scan(self, path: Path, size: int) -> ScanResult:
        try:
            answer = self.client.respmod(path, size)
        except (TimeoutError, OSError, icap.ProtocolError) as error:
            raise ScannerError(f"ICAP server {self.client.url!r}: {error}") from error
        if answer.infected:
            return ScanResult(infected=True, finding=answer.finding)
        return CLEAN


def from_settings(
    kind: str, *, clamd_address: str, icap_url: str, timeout: float
) -> Scanner:
    if kind == "clamd":
        return ClamdScanner(clamd_address, timeout)
    if kind == "icap":
        return IcapScanner(icap_url, timeout)
    return NoScanner()
