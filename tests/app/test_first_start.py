"""First start: the `admin` account and its password, shown once, never logged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.instance import Grove
from tests.app.processes import grove_serve
from tests.conftest import make_settings

PASSWORD_LINE = re.compile(r"^Created account 'admin' with password: (\S+)$", re.M)
# configure_logging's format: "2026-01-01 12:00:00,000 INFO name: message".
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ [\w.]+: ")


def test_first_start_prints_the_admin_password_once_outside_the_log(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with grove_serve(data, tmp_path / "first.log") as server:
        first = server.stderr()
        passwords = PASSWORD_LINE.findall(first)
        assert len(passwords) == 1, first
        password = passwords[0]
        assert server.propfind("admin", password) == 207
        assert server.propfind("admin", password + "x") == 401
        first = server.stderr()

    lines_with_password = [line for line in first.splitlines() if password in line]
    assert len(lines_with_password) == 1
    assert not LOG_LINE.match(lines_with_password[0])
    log_lines = [line for line in first.splitlines() if LOG_LINE.match(line)]
    assert any("created account 'admin'" in line for line in log_lines)
    assert any("sign-in of 'admin'" in line for line in log_lines)
    assert any("failed sign-in for 'admin'" in line for line in log_lines)

    with grove_serve(data, tmp_path / "second.log") as server:
        assert server.propfind("admin", password) == 207
        second = server.stderr()
    assert "Created account" not in second
    assert password not in second


def test_admin_password_from_the_environment_is_not_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(tmp_path / "data", admin_password="chosen by the admin")
    grove = Grove(settings)
    grove.prepare()
    assert capsys.readouterr().err == ""
    principal = grove.sign_in_basic("admin", "chosen by the admin", "127.0.0.1")
    assert principal is not None and principal.is_admin
