"""Logs: an access line per request, sign-ins, faults with tracebacks, no secrets."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.storage.tree import SpaceTree
from tests.conftest import PASSWORD, LiveServer, make_settings, start_server


def _messages(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith(name)]


def _access_lines(caplog: pytest.LogCaptureFixture, count: int) -> list[str]:
    """The access lines, once ``count`` are there: each is written when its
    response is closed, which can be just after the client has read it."""
    deadline = time.monotonic() + 5
    while (
        len(_messages(caplog, "grove.access")) < count and time.monotonic() < deadline
    ):
        time.sleep(0.01)
    return _messages(caplog, "grove.access")


def test_one_access_line_per_request(
    live: LiveServer, alice: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    alice.put(f"{live.dav()}/a.txt", data=b"a", timeout=10)
    alice.get(f"{live.dav()}/a.txt", timeout=10)
    requests.get(f"{live.url}/healthz", timeout=10)

    lines = _access_lines(caplog, 3)
    assert len(lines) == 3
    assert lines[0].startswith("127.0.0.1 PUT '/remote.php/dav/files/alice/a.txt' 201 ")
    assert lines[0].endswith(" alice")
    assert lines[1].startswith(
        "127.0.0.1 GET '/remote.php/dav/files/alice/a.txt' 200 1 "
    )
    assert lines[2].startswith("127.0.0.1 GET '/healthz' 200 ")


def test_sign_in_is_logged_when_the_password_is_verified_not_per_request(
    live: LiveServer, alice: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for _ in range(3):
        alice.request("PROPFIND", live.dav(), headers={"Depth": "0"}, timeout=10)
    bad = live.session("alice", "not the password")
    assert bad.request("PROPFIND", live.dav(), timeout=10).status_code == 401

    messages = _messages(caplog, "app.auth.signin")
    assert messages.count("sign-in of 'alice' from 127.0.0.1") == 1
    failed = [r for r in caplog.records if "failed sign-in" in r.getMessage()]
    assert len(failed) == 1 and failed[0].levelno == logging.WARNING
    assert failed[0].getMessage() == "failed sign-in for 'alice' from 127.0.0.1"


@pytest.fixture
def debug_live(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> Iterator[LiveServer]:
    caplog.set_level(logging.DEBUG)
    database = tmp_path / "db-secret-location" / "grove.db"
    database.parent.mkdir()
    settings = make_settings(
        tmp_path / "data",
        admin_password="admin-secret-value",
        database_url=f"sqlite:///{database}",
        log_level="debug",
    )
    server, live = start_server(settings)
    live.add_user("alice")
    try:
        yield live
    finally:
        server.stop()


def test_no_secret_reaches_the_log_during_sign_ins(
    debug_live: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-password-value"
    for user, password in [
        ("alice", PASSWORD),
        ("alice", wrong),
        ("nobody", wrong),
        ("admin", "admin-secret-value"),
        ("alice", PASSWORD),
    ]:
        debug_live.session(user, password).request(
            "PROPFIND", f"{debug_live.url}/remote.php/webdav/", timeout=10
        )
    requests.get(
        f"{debug_live.url}/remote.php/webdav/",
        headers={"Authorization": "Basic !!not-base64!!"},
        timeout=10,
    )

    records = caplog.get_records("setup") + caplog.get_records("call")
    text = "\n".join(f"{r.getMessage()} {r.args}" for r in records)
    assert "'admin_password': '***'" in text  # the settings dump at debug level
    assert "$argon2" not in text  # peewee would log queries with password hashes
    secrets = [
        PASSWORD,
        wrong,
        "admin-secret-value",
        "db-secret-location",
        "!!not-base64",
    ]
    secrets += [
        base64.b64encode(f"{user}:{password}".encode()).decode()
        for user, password in [("alice", PASSWORD), ("alice", wrong)]
    ]
    for secret in secrets:
        assert secret not in text, secret
    assert "failed sign-in for 'nobody' from 127.0.0.1" in text


def test_internal_error_answers_500_and_logs_the_traceback(
    live: LiveServer,
    alice: requests.Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: SpaceTree, *args: object, **kwargs: object) -> None:
        raise RuntimeError("forced fault in the core")

    monkeypatch.setattr(SpaceTree, "children", broken)
    caplog.set_level(logging.INFO)
    answer = alice.request(
        "PROPFIND", live.dav() + "/", headers={"Depth": "1"}, timeout=10
    )

    assert answer.status_code == 500
    assert "forced fault" not in answer.text  # details stay in the log
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].exc_info is not None
    assert "forced fault in the core" in str(errors[0].exc_info[1])
    assert " 500 " in _access_lines(caplog, 1)[-1]
