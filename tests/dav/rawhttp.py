"""Requests sent byte for byte, so no client library normalises the path or body."""

from __future__ import annotations

import base64
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tests.conftest import PASSWORD


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def auth_header(user: str = "alice", password: str = PASSWORD) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return f"Basic {token}"


def _read_answer(sock: socket.socket) -> Answer:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Answer(status, headers, rest[:length])


def send(
    base_url: str,
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    auth: bool = True,
    length: int | None = None,
    head_only: bool = False,
    timeout: float = 20,
) -> Answer:
    """Send one request with ``target`` exactly as given and read the answer.

    ``length`` overrides Content-Length (to announce more than is sent);
    sending stops quietly when the server closes early (413, 507).
    """
    parts = urlsplit(base_url)
    all_headers = {"Host": parts.netloc, "Connection": "close"}
    if auth:
        all_headers["Authorization"] = auth_header()
    if "Transfer-Encoding" not in (headers or {}):
        all_headers["Content-Length"] = str(len(body) if length is None else length)
    all_headers.update(headers or {})
    head = f"{method} {target} HTTP/1.1\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in all_headers.items())
    with socket.create_connection(
        (parts.hostname, parts.port), timeout=timeout
    ) as sock:
        sock.sendall(head.encode("utf-8") + b"\r\n")
        if not head_only:
            try:
                sock.sendall(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
        try:
            return _read_answer(sock)
        except ConnectionResetError:
            return Answer(0)


def chunked(body: bytes, size: int = 65536) -> bytes:
    """``body`` in HTTP/1.1 chunked transfer coding."""
    out = b""
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\n\r\n"
