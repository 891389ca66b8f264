"""A symlink another program made in the tree reaches no further than its
caller could reach the file it leads to: not past a Denied folder, not out of
a share, while links that stay within what the caller may read keep working."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import requests

from app import roles, shares, spaces, users
from app.auth.principal import Principal
from app.perms import Perm
from tests.conftest import PASSWORD, LiveServer, make_settings, start_server


def principal(name: str) -> Principal:
    return Principal(user_id=str(users.get(name).id), name=name)


def session(name: str) -> requests.Session:
    made = requests.Session()
    made.auth = (name, PASSWORD)
    return made


@pytest.fixture
def world(tmp_path) -> Iterator[LiveServer]:
    server, live = start_server(make_settings(tmp_path / "data"))
    for name in ("alice", "bob", "carol"):
        live.add_user(name)
    try:
        yield live
    finally:
        server.stop()


def listed(answer: requests.Response) -> str:
    assert answer.status_code == 207, answer.text
    return answer.text


def test_a_symlink_does_not_reach_past_a_denied_folder(world: LiveServer) -> None:
    storage = world.settings.storage_dir
    project = spaces.create_project(storage, "P", creator=users.get("alice"))
    spaces.add_member(project, "user", users.get("carol").id, roles.SPACE_EDITOR.id)
    root = spaces.root_path(storage, project)
    (root / "hidden").mkdir()
    (root / "hidden" / "s.txt").write_bytes(b"denied content")
    (root / "open.txt").write_bytes(b"open content")
    os.symlink("hidden/s.txt", root / "to hidden.txt")
    os.symlink("open.txt", root / "to open.txt")
    tree = world.app.grove.tree(project)
    shares.share(
        principal("alice"),
        tree.item(["hidden"]),
        Perm.owner(),
        grantee_type="user",
        grantee_id="carol",
        role="Denied",
    )
    dav = f"{world.url}/dav/spaces/{spaces.drive_id(project)}"
    carol, alice = session("carol"), session("alice")
    assert carol.get(f"{dav}/to%20hidden.txt").status_code == 404
    assert carol.get(f"{dav}/to%20open.txt").content == b"open content"
    listing = listed(carol.request("PROPFIND", f"{dav}/", headers={"Depth": "1"}))
    assert "to%20open.txt" in listing and "to%20hidden.txt" not in listing
    assert alice.get(f"{dav}/to%20hidden.txt").content == b"denied content"
    # A write to the link's name replaces the link (uploads rename into
    # place), never the file it led to.
    assert carol.put(f"{dav}/to%20hidden.txt", data=b"mine").status_code == 201
    assert not (root / "to hidden.txt").is_symlink()
    assert (root / "hidden" / "s.txt").read_bytes() == b"denied content"


def test_a_symlink_does_not_lead_out_of_a_share(world: LiveServer) -> None:
    home = world.user_root("alice")
    (home / "secret").mkdir()
    (home / "secret" / "s.txt").write_bytes(b"private")
    (home / "shared").mkdir()
    (home / "shared" / "inside.txt").write_bytes(b"shared content")
    os.symlink("../secret/s.txt", home / "shared" / "notes.txt")
    os.symlink("inside.txt", home / "shared" / "alias.txt")
    space = spaces.personal_space(users.get("alice"))
    shares.share(
        principal("alice"),
        world.app.grove.tree(space).item(["shared"]),
        Perm.owner(),
        grantee_type="user",
        grantee_id="bob",
        role=roles.VIEWER.id,
    )
    bob = session("bob")
    jail = f"{world.url}/remote.php/dav/files/bob/Shares/shared"
    assert bob.get(f"{jail}/notes.txt").status_code == 404
    assert bob.get(f"{jail}/alias.txt").content == b"shared content"
    listing = listed(bob.request("PROPFIND", f"{jail}/", headers={"Depth": "1"}))
    assert "alias.txt" in listing and "notes.txt" not in listing
    alice = session("alice")
    assert alice.get(f"{world.dav()}/shared/notes.txt").content == b"private"
    # Nor through the API, by the link's id.
    drive = spaces.drive_id(space)
    item = alice.get(f"{world.url}/graph/v1.0/drives/{drive}/root/children").json()
    link_id = next(i["id"] for i in item["value"] if i["name"] == "shared")
    inside = alice.get(
        f"{world.url}/graph/v1.0/drives/{drive}/items/{link_id}/children"
    ).json()
    notes = next(i["id"] for i in inside["value"] if i["name"] == "notes.txt")
    answer = bob.get(f"{world.url}/graph/v1.0/drives/{drive}/items/{notes}")
    assert answer.status_code == 404, answer.text
