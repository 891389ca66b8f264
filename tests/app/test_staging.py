"""Staging files of plain PUTs left by a crash go at start, live ones never."""

from __future__ import annotations

import os
from pathlib import Path

from tests.app.processes import environment, grove, grove_serve
from tests.conftest import LiveServer

ADMIN = "admin-password-1"


def test_start_removes_staging_files_left_behind(tmp_path: Path) -> None:
    data = tmp_path / "data"
    uploads = data / ".grove" / "uploads"
    uploads.mkdir(parents=True)
    stale = uploads / "0b7c1e6e-0000-4000-8000-000000000000.put"
    stale.write_bytes(b"half an upload")
    other = uploads / "session.tus"  # resumable sessions stay until they expire
    other.write_bytes(b"resumable")

    with grove_serve(
        data, tmp_path / "serve.log", GROVE_ADMIN_PASSWORD=ADMIN
    ) as server:
        assert not stale.exists()
        assert other.exists()
        assert "removed 1 staging files" in server.stderr()


def test_staging_files_of_a_running_server_survive_another_start(
    live: LiveServer,
) -> None:
    uploads = live.settings.state_dir / "uploads"
    in_flight = uploads / "11111111-0000-4000-8000-000000000000.put"
    in_flight.write_bytes(b"still arriving")
    os.utime(in_flight, (0, 0))

    result = grove(
        "user",
        "list",
        "--data",
        live.settings.data,
        env=environment(GROVE_ADMIN_PASSWORD=ADMIN),
    )
    assert result.returncode == 0, result.stderr
    assert in_flight.exists()
