"""/healthz says the process runs; /readyz that database and storage are reachable."""

from __future__ import annotations

import os
from pathlib import Path

import requests

from tests.app.processes import grove_serve
from tests.conftest import LiveServer


def test_healthz_and_readyz_answer_without_signing_in(live: LiveServer) -> None:
    assert requests.get(f"{live.url}/healthz", timeout=10).json() == {"status": "ok"}
    assert requests.get(f"{live.url}/readyz", timeout=10).json() == {"status": "ok"}


def test_readyz_is_503_while_the_storage_folder_is_gone(live: LiveServer) -> None:
    storage = live.settings.storage_dir
    moved = storage.with_name("storage-away")
    storage.rename(moved)
    try:
        answer = requests.get(f"{live.url}/readyz", timeout=10)
        assert answer.status_code == 503
        assert answer.json() == {"status": "unavailable", "problems": ["storage"]}
        assert str(storage) not in answer.text
        assert requests.get(f"{live.url}/healthz", timeout=10).status_code == 200
    finally:
        moved.rename(storage)
    assert requests.get(f"{live.url}/readyz", timeout=10).status_code == 200


def test_readyz_is_503_while_the_database_is_unusable(live: LiveServer) -> None:
    database = live.settings.state_dir / "grove.db"
    saved = database.read_bytes()
    database.write_bytes(b"not a database" * 100)
    try:
        answer = requests.get(f"{live.url}/readyz", timeout=10)
        assert answer.status_code == 503
        assert answer.json()["problems"] == ["database"]
    finally:
        database.write_bytes(saved)


def test_readyz_is_503_when_the_server_cannot_read_storage(tmp_path: Path) -> None:
    # Tests run as root, who reads everything, and `nobody` cannot reach the
    # interpreter under /root: the server runs as root without the capabilities
    # that override file permissions.
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    data = tmp_path / "data"
    with grove_serve(
        data,
        tmp_path / "serve.log",
        prefix=prefix,
        GROVE_ADMIN_PASSWORD="admin-password-1",
    ) as server:
        assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
        os.chmod(data / "storage", 0o000)
        try:
            answer = requests.get(f"{server.url}/readyz", timeout=10)
        finally:
            os.chmod(data / "storage", 0o755)
        assert answer.status_code == 503
        assert answer.json()["problems"] == ["storage"]
        assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
        assert "not ready" in server.stderr() and "Permission denied" in server.stderr()
