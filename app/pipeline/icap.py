"""A small ICAP client (RFC 3507): RESPMOD with preview, for malware scanning.

No maintained Python ICAP client exists; this one does what scanning needs.
The content goes as the body of an encapsulated HTTP response, streamed from
the file in chunks. The server's OPTIONS answer gives the preview size; a
body that fits in the preview is sent whole with ``ieof``. The verdict:

- ``204 No Content``: unmodified, clean;
- an ``X-Infection-Found`` or ``X-Virus-ID`` header, or an encapsulated HTTP
  status of 403: infected (c-icap's virus_scan answers its "VIRUS FOUND" page
  with 403 and names the finding in ``X-Virus-ID`` / ``X-Infection-Found``);
- ``200`` with the unchanged 200 response: clean;
- anything else (4xx/5xx from the ICAP server, a broken answer): an error,
  never clean.
"""

from __future__ import annotations

import dataclasses
import re
import socket
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

BLOCK = 1024 * 1024
MAX_HEAD = 65536
DEFAULT_PORT = 1344


class ProtocolError(Exception):
    """The ICAP server answered something this client cannot take as a verdict."""


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    infected: bool
    finding: str = ""


@dataclasses.dataclass(frozen=True)
class Head:
    status: int
    headers: dict[str, str]


_THREAT = re.compile(r"Threat=([^;]+)")


class _Reader:
    """Buffered reads of ICAP heads from a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def head(self) -> Head:
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > MAX_HEAD:
                raise ProtocolError("ICAP answer head too long")
            data = self.sock.recv(65536)
            if not data:
                raise ProtocolError("the ICAP server closed the connection")
            self.buffer += data
        raw, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        return _parse_head(raw)

    def rest(self, limit: int) -> bytes:
        """What follows the head (the encapsulated part), up to ``limit`` bytes."""
        self.sock.settimeout(min(self.sock.gettimeout() or 5.0, 5.0))
        try:
            while len(self.buffer) < limit:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.buffer += data
                if b"\r\n\r\n" in self.buffer:
                    break
        except (TimeoutError, OSError):
            pass
        return self.buffer[:limit]


def _parse_head(raw: bytes) -> Head:
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("ICAP/") or not parts[1].isdigit():
        raise ProtocolError(f"not an ICAP status line: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return Head(int(parts[1]), headers)


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class Client:
    def __init__(self, url: str, *, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme != "icap" or not parts.hostname:
            raise ValueError(f"not an icap:// URL: {url!r}")
        self.url = url
        self.host = parts.hostname
        self.port = parts.port or DEFAULT_PORT
        self.timeout = timeout
        self._preview: int | None = None

    def _connect(self) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=self.timeout)

    def _request_line(self, method: str) -> bytes:
        return (
            f"{method} {self.url} ICAP/1.0\r\nHost: {self.host}:{self.port}\r\n"
        ).encode("latin-1")

    def options(self) -> Head:
        with self._connect() as sock:
            sock.sendall(
                self._request_line("OPTIONS") + b"Encapsulated: null-body=0\r\n\r\n"
            )
            head = _Reader(sock).head()
        if head.status != 200:
            raise ProtocolError(f"OPTIONS answered {head.status}")
        return head

    def preview_size(self) -> int:
        if self._preview is None:
            value = self.options().headers.get("preview", "")
            self._preview = int(value) if value.isdigit() else 0
        return self._preview

    def respmod(self, path: Path, size: int) -> Answer:
        preview = min(self.preview_size(), size)
        whole = preview == size
        request_head = b"GET /grove-upload HTTP/1.1\r\nHost: grove\r\n\r\n"
        response_head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: %d\r\n\r\n" % size
        )
        head = (
            self._request_line("RESPMOD")
            + b"Allow: 204\r\n"
            + b"Preview: %d\r\n" % preview
            + b"Encapsulated: req-hdr=0, res-hdr=%d, res-body=%d\r\n\r\n"
            % (len(request_head), len(request_head) + len(response_head))
            + request_head
            + response_head
        )
        with self._connect() as sock, open(path, "rb") as handle:
            reader = _Reader(sock)
            first = handle.read(preview) if preview else b""
            end = b"0; ieof\r\n\r\n" if whole else b"0\r\n\r\n"
            sock.sendall(head + (_chunk(first) if first else b"") + end)
            answer = reader.head()
            if answer.status == 100 and not whole:
                self._send_rest(sock, handle)
                answer = reader.head()
            return _verdict(answer, reader)

    @staticmethod
    def _send_rest(sock: socket.socket, handle: BinaryIO) -> None:
        try:
            while block := handle.read(BLOCK):
                sock.sendall(_chunk(block))
            sock.sendall(b"0\r\n\r\n")
        except BrokenPipeError:
            # The server may answer before it has read everything; its answer
            # (read next) decides.
            pass


def _verdict(head: Head, reader: _Reader) -> Answer:
    headers = head.headers
    found = headers.get("x-infection-found") or headers.get("x-virus-id")
    if found:
        match = _THREAT.search(found)
        name = (match.group(1) if match else found).strip()
        return Answer(head.status, True, name)
    if head.status == 204:
        return Answer(204, False)
    if head.status == 200:
        http = reader.rest(4096)
        status_line = http.split(b"\r\n", 1)[0].decode("latin-1")
        parts = status_line.split(" ")
        if len(parts) >= 2 and parts[0].startswith("HTTP/") and parts[1] == "200":
            return Answer(200, False)
        if len(parts) >= 2 and parts[1] == "403":
            return Answer(200, True, _finding_in(http) or "blocked by the ICAP server")
        raise ProtocolError(f"unexpected encapsulated answer {status_line[:80]!r}")
    raise ProtocolError(f"the ICAP server answered {head.status}")


def _finding_in(http: bytes) -> str:
    for line in http.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() in ("x-infection-found", "x-virus-id"):
            match = _THREAT.search(value)
            return (match.group(1) if match else value).strip()
    return ""
