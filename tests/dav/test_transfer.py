"""File bodies travel in large blocks, whatever WsgiDAV's own default."""

from __future__ import annotations

import base64
import logging
import os
from wsgiref.util import FileWrapper

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


def _get(live, path, **headers):
    token = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    environ = EnvironBuilder(
        path=path, method="GET", headers={"Authorization": f"Basic {token}", **headers}
    ).get_environ()
    environ["wsgi.file_wrapper"] = FileWrapper
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append((status, dict(headers)))

    return live.app(environ, start_response), statuses


def test_whole_file_get_returns_the_servers_file_wrapper(live, caplog):
    payload = os.urandom(2 * MIB + 7)
    (live.user_root() / "big.bin").write_bytes(payload)
    caplog.set_level(logging.INFO, logger="grove.access")

    body, statuses = _get(live, "/remote.php/dav/files/alice/big.bin")
    assert isinstance(body, FileWrapper)  # gunicorn then sends it with sendfile
    try:
        assert b"".join(body) == payload
    finally:
        body.close()
    assert statuses[0][0] == "200 OK"
    assert statuses[0][1]["Content-Length"] == str(len(payload))
    assert f"GET '/remote.php/dav/files/alice/big.bin' 200 {len(payload)}" in (
        caplog.text
    )

    ranged, statuses = _get(
        live, "/remote.php/dav/files/alice/big.bin", Range="bytes=10-19"
    )
    try:
        assert not isinstance(ranged, FileWrapper)
        assert b"".join(ranged) == payload[10:20]
    finally:
        ranged.close()
    assert statuses[0][0] == "206 Partial Content"

    missing, statuses = _get(live, "/remote.php/dav/files/alice/nothing.bin")
    try:
        assert not isinstance(missing, FileWrapper)
        b"".join(missing)
    finally:
        missing.close()
    assert statuses[0][0].startswith("404")
