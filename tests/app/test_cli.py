"""The ``grove`` command as an admin runs it: the installed script, in subprocesses."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app import migrate
from tests.app.processes import REPO, environment, grove, grove_serve

ADMIN = "admin-password-1"


def test_user_lifecycle_against_a_running_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with grove_serve(
        data, tmp_path / "serve.log", GROVE_ADMIN_PASSWORD=ADMIN
    ) as server:
        added = grove(
            "user",
            "add",
            "dave",
            "--password-stdin",
            "--data",
            data,
            stdin="first password\n",
        )
        assert added.returncode == 0, added.stderr
        assert server.propfind("dave", "first password") == 207

        listed = grove("user", "list", "--data", data)
        assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == [
            "admin",
            "dave",
        ]

        changed = grove(
            "user",
            "passwd",
            "dave",
            "--password-stdin",
            "--data",
            data,
            stdin="second password\n",
        )
        assert changed.returncode == 0, changed.stderr
        # The old password was cached as verified a moment ago; the credential
        # generation refuses it at once all the same.
        assert server.propfind("dave", "first password") == 401
        assert server.propfind("dave", "second password") == 207

        deleted = grove("user", "delete", "dave", "--data", data)
        assert deleted.returncode == 0, deleted.stderr
        assert server.propfind("dave", "second password") == 401
        assert "dave" not in grove("user", "list", "--data", data).stdout


def test_admin_flag_and_grove_data_variable(tmp_path: Path) -> None:
    env = environment(GROVE_DATA=str(tmp_path / "data"), GROVE_ADMIN_PASSWORD=ADMIN)
    added = grove(
        "user",
        "add",
        "erin",
        "--admin",
        "--password-stdin",
        stdin="erin password",
        env=env,
    )
    assert added.returncode == 0, added.stderr
    rows = [
        line.split("\t") for line in grove("user", "list", env=env).stdout.splitlines()
    ]
    assert {row[0]: row[2] for row in rows} == {"admin": "admin", "erin": "admin"}
    assert (tmp_path / "data" / "storage" / "users" / "erin").is_dir()


def test_space_admin_role_is_given_and_taken(tmp_path: Path) -> None:
    env = environment(GROVE_DATA=str(tmp_path / "data"), GROVE_ADMIN_PASSWORD=ADMIN)
    added = grove(
        "user",
        "add",
        "sam",
        "--space-admin",
        "--password-stdin",
        stdin="sam password",
        env=env,
    )
    assert added.returncode == 0, added.stderr

    def roles() -> dict[str, str]:
        listed = grove("user", "list", env=env).stdout.splitlines()
        return {line.split("\t")[0]: line.split("\t")[2] for line in listed}

    assert roles() == {"admin": "admin", "sam": "space-admin"}
    revoked = grove("user", "space-admin", "sam", "--revoke", env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert roles()["sam"] == ""
    assert grove("user", "space-admin", "sam", env=env).returncode == 0
    assert roles()["sam"] == "space-admin"
    unknown = grove("user", "space-admin", "nobody", env=env)
    assert unknown.returncode == 1 and "no user" in unknown.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("user", "add", "frank", "--password-stdin"), "short\n", "shorter than 8"),
        (("user", "add", "admin", "--password-stdin"), "long enough 1\n", "exists"),
        (("user", "add", "a/b", "--password-stdin"), "long enough 1\n", "invalid user"),
        (
            ("user", "passwd", "nobody", "--password-stdin"),
            "long enough 1\n",
            "no user",
        ),
        (("user", "delete", "nobody"), "", "no user"),
    ],
)
def test_bad_input_gives_a_clear_error_and_nonzero_exit(
    tmp_path: Path, args: tuple[str, ...], stdin: str, message: str
) -> None:
    result = grove(
        *args,
        "--data",
        tmp_path / "data",
        stdin=stdin,
        env=environment(GROVE_ADMIN_PASSWORD=ADMIN),
    )
    assert result.returncode == 1
    assert "Error:" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


def test_python_dash_m_app_runs_the_same_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "user", "list", "--data", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        env=environment(GROVE_ADMIN_PASSWORD=ADMIN),
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("admin\t")


def test_config_errors_are_reported_together_at_start(tmp_path: Path) -> None:
    config = tmp_path / "grove.toml"
    config.write_text('colour = "green"\nthreads = "many"\nlog_level = "loud"\n')
    env = environment(GROVE_MAX_HEADER_BYTES="-1")
    result = grove(
        "serve", "--config", config, "--data", tmp_path / "d", env=env, timeout=30
    )
    assert result.returncode == 1
    for fragment in (
        "unknown setting 'colour'",
        "threads: expected an integer, got 'many'",
        "log_level: must be one of debug, info, warning, error",
        "GROVE_MAX_HEADER_BYTES: must be greater than 0",
    ):
        assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "d").exists()


def test_serve_on_a_busy_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = grove(
            "serve",
            "--data",
            tmp_path / "d",
            "--bind",
            f"127.0.0.1:{port}",
            env=environment(GROVE_ADMIN_PASSWORD=ADMIN),
            timeout=30,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_creates_then_reports_the_schema_version(tmp_path: Path) -> None:
    first = grove("migrate", "--data", tmp_path / "d")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"schema version 0 -> {migrate.LATEST}"
    again = grove("migrate", "--data", tmp_path / "d").stdout.strip()
    assert again == f"schema version {migrate.LATEST}"


def test_config_example_prints_every_option(tmp_path: Path) -> None:
    result = grove("config", "example")
    assert result.returncode == 0
    assert result.stdout == (REPO / "config" / "grove.example.toml").read_text()
