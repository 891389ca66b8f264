"""Request size limits of the built-in server: refused with 4xx, serving goes on."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.server import build_server
from tests.conftest import LiveServer, free_port, make_settings

LIMIT = 8192


@pytest.fixture
def small_heads(tmp_path: Path) -> Iterator[LiveServer]:
    """`grove serve`'s own server (app/server.py) with a small head limit."""
    port = free_port()
    settings = make_settings(
        tmp_path / "data", max_header_bytes=LIMIT, bind=f"127.0.0.1:{port}"
    )
    server = build_server(settings)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, server.wsgi_app)
    finally:
        server.stop()


def _status_of(live: LiveServer, head: bytes) -> int:
    port = int(live.url.rpartition(":")[2])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head)
        answer = b""
        while b"\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def test_oversized_header_block_is_refused_and_serving_goes_on(
    small_heads: LiveServer,
) -> None:
    headers = "".join(f"X-Filler-{n}: {'a' * 100}\r\n" for n in range(LIMIT // 100))
    head = f"GET /healthz HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n".encode()
    assert len(head) > LIMIT

    assert _status_of(small_heads, head) in (400, 413, 431)
    assert requests.get(f"{small_heads.url}/healthz", timeout=10).status_code == 200


def test_oversized_request_line_is_refused_and_serving_goes_on(
    small_heads: LiveServer,
) -> None:
    head = f"GET /healthz?{'q' * LIMIT} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
    assert _status_of(small_heads, head) == 414
    assert requests.get(f"{small_heads.url}/healthz", timeout=10).status_code == 200


def test_head_within_the_limit_is_served(small_heads: LiveServer) -> None:
    headers = "".join(f"X-Filler-{n}: {'a' * 100}\r\n" for n in range(LIMIT // 200))
    head = f"GET /healthz HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n".encode()
    assert _status_of(small_heads, head) == 200
