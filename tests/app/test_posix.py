"""What Grove writes gets owner, group and mode from config; what it cannot
read is listed and refused clearly, never a 500."""

from __future__ import annotations

import grp
import os
import stat
from pathlib import Path

import requests

from tests.app.processes import environment, grove, grove_serve
from tests.conftest import PASSWORD, make_settings, start_server


def test_files_and_folders_grove_writes_get_group_and_mode(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "data", file_mode="0664", folder_mode="2775", file_group="users"
    )
    server, live = start_server(settings)
    try:
        live.add_user("alice")
        alice = live.session()
        assert alice.request("MKCOL", f"{live.dav()}/shared").status_code == 201
        assert alice.put(f"{live.dav()}/shared/a.txt", data=b"a").status_code == 201
        copied = alice.request(
            "COPY",
            f"{live.dav()}/shared/a.txt",
            headers={"Destination": f"{live.dav()}/shared/b.txt"},
        )
        assert copied.status_code == 201
    finally:
        server.stop()
    users = grp.getgrnam("users").gr_gid
    root = live.user_root()
    folder = os.stat(root / "shared")
    assert (stat.S_IMODE(folder.st_mode), folder.st_gid) == (0o2775, users)
    for name in ("a.txt", "b.txt"):
        written = os.stat(root / "shared" / name)
        assert (stat.S_IMODE(written.st_mode), written.st_gid) == (0o664, users)


def test_bad_mode_and_unknown_group_are_config_errors(tmp_path: Path) -> None:
    done = grove(
        "config", "check", "--data", tmp_path,
        env=environment(GROVE_FILE_MODE="rw-rw-r--", GROVE_FILE_GROUP="no-such-grp"),
    )  # fmt: skip
    assert done.returncode == 1
    assert "GROVE_FILE_MODE: must be an octal mode" in done.stderr
    assert "GROVE_FILE_GROUP: no such group" in done.stderr


def test_a_file_grove_cannot_read_is_listed_and_refused_clearly(tmp_path: Path) -> None:
    # Root reads everything: the server runs without the capabilities that
    # override file permissions (see tests/app/test_health.py).
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    data = tmp_path / "data"
    env = {"GROVE_ADMIN_PASSWORD": "admin-password-1"}
    added = grove(
        "user", "add", "alice", "--password-stdin", "--data", data,
        stdin=PASSWORD + "\n", env=environment(**env),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    secret = data / "storage" / "users" / "alice" / "secret.txt"
    secret.write_text("not for Grove")
    secret.chmod(0o000)
    with grove_serve(data, tmp_path / "serve.log", prefix=prefix, **env) as server:
        url = server.dav("alice")
        auth = ("alice", PASSWORD)
        listing = requests.request(
            "PROPFIND", f"{url}/", headers={"Depth": "1"}, auth=auth, timeout=30
        )
        assert listing.status_code == 207
        assert "secret.txt" in listing.text
        answer = requests.get(f"{url}/secret.txt", auth=auth, timeout=30)
        assert answer.status_code == 403
        assert "cannot read this file on disk" in answer.text
        assert requests.get(f"{url}/", auth=auth, timeout=30).status_code < 500
        assert "Traceback" not in server.stderr()
