"""File bodies travel in large blocks, whatever WsgiDAV's own default."""

from __future__ import annotations

import base64
import os

from werkzeug.test import EnvironBuilder

from tests.conftest import PASSWORD

MIB = 1024 * 1024


def test_get_sends_a_large_file_in_blocks_of_a_mebibyte(live):
    payload = os.urandom(3 * MIB + 5)
    (live.user_root() / "big.bin").write_bytes(payload)
    token = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    environ = EnvironBuilder(
        path="/remote.php/dav/files/alice/big.bin",
        method="GET",
        headers={"Authorization": f"Basic {token}"},
    ).get_environ()
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    body = live.app(environ, start_response)
    try:
        chunks = [bytes(chunk) for chunk in body]
    finally:
        body.close()

    assert statuses == ["200 OK"]
    assert b"".join(chunks) == payload
    assert max(len(chunk) for chunk in chunks) == MIB
    assert len(chunks) <= 5
