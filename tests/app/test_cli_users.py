"""``grove user rename`` and ``grove user delete [--purge]`` as an admin runs
them against a running server: the installed script, in subprocesses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.app.processes import Running, grove, grove_serve

ADMIN = "admin-password-1"
PASSWORD = "dave's password"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Running]:
    """A running Grove with user dave, who has a file and an app token."""
    data = tmp_path / "data"
    with grove_serve(data, tmp_path / "serve.log", GROVE_ADMIN_PASSWORD=ADMIN) as up:
        added = grove(
            "user", "add", "dave", "--password-stdin", "--data", data, stdin=PASSWORD
        )
        assert added.returncode == 0, added.stderr
        put = requests.put(
            f"{up.dav('dave')}/plan.txt", data=b"the plan", auth=("dave", PASSWORD)
        )
        assert put.status_code == 201, up.stderr()[-3000:]
        yield up


def folder_of(data: Path, name: str) -> str:
    listed = grove("user", "list", "--data", data).stdout
    for line in listed.splitlines():
        fields = line.split("\t")
        if fields[0] == name:
            return fields[3]
    raise AssertionError(f"{name!r} not listed:\n{listed}")


def token_of(server: Running, user: str, password: str) -> str:
    made = requests.post(f"{server.url}/auth-app/tokens", auth=(user, password))
    assert made.status_code == 200, made.text
    return str(made.json()["token"])


def me(server: Running, user: str, password: str) -> requests.Response:
    return requests.get(f"{server.url}/graph/v1.0/me", auth=(user, password))


def test_rename_keeps_id_files_and_folder(server: Running, tmp_path: Path) -> None:
    data = tmp_path / "data"
    before = me(server, "dave", PASSWORD).json()
    folder = folder_of(data, "dave")

    renamed = grove(
        "user", "rename", "dave", "david", "--display-name", "David", "--data", data
    )

    assert renamed.returncode == 0, renamed.stderr
    assert "david" in renamed.stdout
    assert server.propfind("dave", PASSWORD) == 401
    after = me(server, "david", PASSWORD).json()
    assert (after["id"], after["displayName"]) == (before["id"], "David")
    assert folder_of(data, "david") == folder
    assert (Path(folder) / "plan.txt").read_bytes() == b"the plan"
    got = requests.get(f"{server.dav('david')}/plan.txt", auth=("david", PASSWORD))
    assert got.content == b"the plan"


def test_rename_to_a_taken_or_bad_name_changes_nothing(
    server: Running, tmp_path: Path
) -> None:
    data = tmp_path / "data"

    taken = grove("user", "rename", "dave", "ADMIN", "--data", data)
    bad = grove("user", "rename", "dave", "da/ve", "--data", data)
    missing = grove("user", "rename", "nobody", "somebody", "--data", data)

    assert taken.returncode == 1 and "ADMIN" in taken.stderr
    assert bad.returncode == 1 and "da/ve" in bad.stderr
    assert missing.returncode == 1 and "nobody" in missing.stderr
    assert server.propfind("dave", PASSWORD) == 207


def test_delete_ends_tokens_and_keeps_the_files_in_the_trash(
    server: Running, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    token = token_of(server, "dave", PASSWORD)
    assert me(server, "dave", token).status_code == 200
    folder = Path(folder_of(data, "dave"))

    deleted = grove("user", "delete", "dave", "--yes", "--data", data)

    assert deleted.returncode == 0, deleted.stderr
    assert me(server, "dave", token).status_code == 401
    assert me(server, "dave", PASSWORD).status_code == 401
    assert not folder.exists()
    (kept,) = (data / ".grove" / "trash" / "users").iterdir()
    assert str(kept) in deleted.stdout
    assert (kept / "plan.txt").read_bytes() == b"the plan"


def test_delete_with_purge_removes_the_files_now(
    server: Running, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    folder = Path(folder_of(data, "dave"))

    deleted = grove("user", "delete", "dave", "--yes", "--purge", "--data", data)

    assert deleted.returncode == 0, deleted.stderr
    assert "kept" not in deleted.stdout
    assert not folder.exists()
    trash = data / ".grove" / "trash" / "users"
    assert not trash.exists() or list(trash.iterdir()) == []
    assert server.propfind("dave", PASSWORD) == 401
