"""The issue's scenario, end to end: alice runs a project space with bob as
SpaceViewer and carol as SpaceEditor, shares a folder of her personal space
with the group "team" (bob and carol) as Editor and a file by a public link
with a password. bob and carol use what they got with rclone, the link is
opened over plain HTTP, and each is refused, with the right status, what the
role does not allow. Every /graph answer is checked against the official
Libre Graph document."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import requests

from app import account_roles, roles, users
from tests.clients.programs import program, run
from tests.conftest import PASSWORD, LiveServer
from tests.graph.contract import assert_conforms


class Rclone:
    """rclone for one user, with a WebDAV remote ``grove:`` at ``url``."""

    def __init__(self, home: Path, url: str, user: str) -> None:
        self.binary = program("rclone")
        self.home = home
        home.mkdir(parents=True)
        obscured = self._run("obscure", PASSWORD).stdout.strip()
        self.config = home / "rclone.conf"
        self.config.write_text(
            f"[grove]\ntype = webdav\nurl = {url}\nvendor = owncloud\n"
            f"user = {user}\npass = {obscured}\n"
        )

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_CACHE_HOME": str(self.home / "cache"),
            "XDG_CONFIG_HOME": str(self.home / "config"),
        }
        config = ["--config", str(self.home / "rclone.conf")]
        retries = ["--retries", "1", "--low-level-retries", "1"]
        command = [self.binary, *config, *retries, *args]
        return run(command, env=env, check=check)

    def ok(self, *args: str) -> str:
        """Run rclone; the test fails unless it succeeds."""
        return str(self._run(*args).stdout)

    def refused(self, *args: str) -> str:
        """Run rclone; the test fails unless it fails. Its error output."""
        done = self._run(*args, check=False)
        assert done.returncode != 0, done.stdout
        return str(done.stderr)


def graph(live: LiveServer, path: str) -> str:
    return f"{live.url}/graph{path}"


def checked(answer: requests.Response, status: int) -> dict:
    assert answer.status_code == status, answer.text
    assert_conforms(answer)
    return answer.json() if answer.content else {}


def invite(
    live: LiveServer, session: requests.Session, drive: dict, user: str, role: str
) -> requests.Response:
    body = {
        "recipients": [
            {"objectId": users.get(user).id, "@libre.graph.recipient.type": "user"}
        ],
        "roles": [role],
    }
    url = graph(live, f"/v1beta1/drives/{drive['id']}/root/invite")
    return session.post(url, json=body, timeout=10)


def make_team(live: LiveServer) -> str:
    """Users bob and carol, and the group "team" of both, made by the admin;
    the group's id."""
    admin = live.session("admin", "admin-password-1")
    for name in ("bob", "carol"):
        live.add_user(name)
    group = checked(
        admin.post(graph(live, "/v1.0/groups"), json={"displayName": "team"}), 201
    )
    for name in ("bob", "carol"):
        ref = {"@odata.id": f"{live.url}/graph/v1.0/users/{users.get(name).id}"}
        added = admin.post(
            graph(live, f"/v1.0/groups/{group['id']}/members/$ref"), json=ref
        )
        assert added.status_code == 204, added.text
    return str(group["id"])


def test_project_space_with_a_viewer_and_an_editor(
    live: LiveServer, alice: requests.Session, tmp_path: Path
) -> None:
    make_team(live)
    account_roles.set_space_admin(users.get("alice"), True, actor="admin")
    bob, carol = live.session("bob"), live.session("carol")

    # alice creates the space, fills it and invites bob and carol.
    drive = checked(
        alice.post(graph(live, "/v1.0/drives"), json={"name": "Apollo"}), 201
    )
    url = f"{live.url}/dav/spaces/{drive['id']}"
    assert alice.request("MKCOL", f"{url}/plans").status_code == 201
    assert alice.put(f"{url}/plans/launch.txt", data=b"T minus 10").status_code == 201
    viewer = checked(invite(live, alice, drive, "bob", roles.SPACE_VIEWER.id), 200)
    assert viewer["value"][0]["roles"] == [roles.SPACE_VIEWER.id]
    checked(invite(live, alice, drive, "carol", roles.SPACE_EDITOR.id), 200)

    # Both see the space among their drives, with their roles.
    for session in (bob, carol):
        found = checked(
            session.get(
                graph(live, "/v1beta1/me/drives"),
                params={"$filter": "driveType eq 'project'"},
            ),
            200,
        )
        assert [d["name"] for d in found["value"]] == ["Apollo"]
    members = checked(
        bob.get(graph(live, f"/v1beta1/drives/{drive['id']}/root/permissions")), 200
    )
    held = {p["grantedToV2"]["user"]["id"]: p["roles"][0] for p in members["value"]}
    assert held == {
        users.get("alice").id: roles.MANAGER.id,
        users.get("bob").id: roles.SPACE_VIEWER.id,
        users.get("carol").id: roles.SPACE_EDITOR.id,
    }

    # bob reads with rclone and may change nothing.
    bob_rclone = Rclone(tmp_path / "bob", url, "bob")
    copy = tmp_path / "bob-copy"
    bob_rclone.ok("copy", "grove:", str(copy))
    assert (copy / "plans" / "launch.txt").read_bytes() == b"T minus 10"
    (copy / "mine.txt").write_bytes(b"bob was here")
    assert "403" in bob_rclone.refused(
        "copyto", str(copy / "mine.txt"), "grove:mine.txt"
    )
    assert "403" in bob_rclone.refused("deletefile", "grove:plans/launch.txt")
    assert bob.put(f"{url}/mine.txt", data=b"x").status_code == 403
    assert bob.delete(f"{url}/plans/launch.txt").status_code == 403
    assert bob.request("MKCOL", f"{url}/bobs").status_code == 403
    assert alice.get(f"{url}/mine.txt").status_code == 404

    # carol edits with rclone: uploads, changes, deletes.
    carol_rclone = Rclone(tmp_path / "carol", url, "carol")
    source = tmp_path / "carol-source"
    source.mkdir()
    (source / "report.txt").write_bytes(b"all systems go")
    carol_rclone.ok("copy", str(source), "grove:reports")
    assert alice.get(f"{url}/reports/report.txt").content == b"all systems go"
    (source / "launch.txt").write_bytes(b"T minus 9")
    carol_rclone.ok("copyto", str(source / "launch.txt"), "grove:plans/launch.txt")
    assert bob.get(f"{url}/plans/launch.txt").content == b"T minus 9"
    carol_rclone.ok("deletefile", "grove:reports/report.txt")
    assert alice.get(f"{url}/reports/report.txt").status_code == 404

    # Only the Manager manages: members, the name, the space's life.
    for session, name in ((bob, "carol"), (carol, "bob")):
        refused = invite(live, session, drive, name, roles.MANAGER.id)
        assert refused.status_code == 403
        assert_conforms(refused)
    drive_url = graph(live, f"/v1.0/drives/{drive['id']}")
    for session in (bob, carol):
        renamed = session.patch(drive_url, json={"name": "Mine"})
        assert renamed.status_code == 403
        assert_conforms(renamed)
        assert session.delete(drive_url).status_code == 403
    for session in (bob, carol):
        refused = session.post(graph(live, "/v1.0/drives"), json={"name": "Own"})
        assert refused.status_code == 403

    # alice disables the space: it is gone for bob and carol, rclone included.
    assert alice.delete(drive_url).status_code == 204
    assert "directory not found" in bob_rclone.refused("lsf", "grove:")
    for session in (bob, carol):
        assert session.get(drive_url).status_code == 404
        assert session.get(f"{url}/plans/launch.txt").status_code == 404
    restored = alice.patch(drive_url, json={}, headers={"Restore": "T"})
    checked(restored, 200)
    assert "launch.txt" in carol_rclone.ok("lsf", "grove:plans")


def item_id(live: LiveServer, session: requests.Session, name: str) -> str:
    """The id of ``name`` in the root of the caller's personal drive."""
    listed = checked(session.get(graph(live, "/v1.0/me/drive/root/children")), 200)
    return next(item["id"] for item in listed["value"] if item["name"] == name)


def test_folder_shared_with_a_group_and_a_file_by_link(
    live: LiveServer, alice: requests.Session, tmp_path: Path
) -> None:
    team = make_team(live)
    bob, carol = live.session("bob"), live.session("carol")
    home = f"{live.url}/dav/spaces/{live.drive_id(alice)}"
    assert alice.request("MKCOL", f"{home}/Team docs").status_code == 201
    agenda = alice.put(f"{home}/Team docs/agenda.txt", data=b"1. launch")
    assert agenda.status_code == 201
    flyer = alice.put(f"{home}/flyer.txt", data=b"Come to the launch")
    assert flyer.status_code == 201
    assert alice.put(f"{home}/private.txt", data=b"mine").status_code == 201
    drive = checked(alice.get(graph(live, "/v1.0/me/drive")), 200)["id"]

    # alice shares the folder with the group "team" as Editor.
    folder = item_id(live, alice, "Team docs")
    body = {
        "recipients": [{"objectId": team, "@libre.graph.recipient.type": "group"}],
        "roles": [roles.EDITOR.id],
    }
    invite_url = graph(live, f"/v1beta1/drives/{drive}/items/{folder}/invite")
    shared = checked(alice.post(invite_url, json=body), 200)
    assert shared["value"][0]["grantedToV2"]["group"]["id"] == team
    for session in (bob, carol):
        received = checked(
            session.get(graph(live, "/v1beta1/me/drive/sharedWithMe")), 200
        )
        assert [item["name"] for item in received["value"]] == ["Team docs"]

    # bob and carol work in it with rclone, through their share jails.
    clients = {
        name: Rclone(
            tmp_path / name,
            f"{live.url}/remote.php/dav/files/{name}/Shares/Team docs",
            name,
        )
        for name in ("bob", "carol")
    }
    copy = tmp_path / "bob-copy"
    clients["bob"].ok("copy", "grove:", str(copy))
    assert (copy / "agenda.txt").read_bytes() == b"1. launch"
    (copy / "minutes.txt").write_bytes(b"bob's minutes")
    clients["bob"].ok("copyto", str(copy / "minutes.txt"), "grove:minutes.txt")
    assert alice.get(f"{home}/Team docs/minutes.txt").content == b"bob's minutes"
    clients["carol"].ok("deletefile", "grove:agenda.txt")
    assert alice.get(f"{home}/Team docs/agenda.txt").status_code == 404

    # An Editor of a folder may not share it on, nor reach beyond it.
    again = {
        "recipients": [
            {"objectId": users.get("alice").id, "@libre.graph.recipient.type": "user"}
        ],
        "roles": [roles.VIEWER.id],
    }
    jail_items = bob.get(graph(live, "/v1beta1/me/drive/sharedWithMe")).json()
    remote = jail_items["value"][0]["remoteItem"]
    reshare = bob.post(
        graph(
            live,
            f"/v1beta1/drives/{remote['parentReference']['driveId']}"
            f"/items/{remote['id']}/invite",
        ),
        json=again,
    )
    assert reshare.status_code == 403, reshare.text
    assert_conforms(reshare)
    assert bob.get(f"{home}/private.txt").status_code == 404
    outside = Rclone(tmp_path / "carol-home", f"{home}", "carol")
    assert "not found" in outside.refused("lsf", "grove:")

    # The flyer goes out by a public link with a password, used over plain HTTP.
    flyer_id = item_id(live, alice, "flyer.txt")
    link = checked(
        alice.post(
            graph(live, f"/v1beta1/drives/{drive}/items/{flyer_id}/createLink"),
            json={"type": "view", "password": "Launch-Code-42"},
        ),
        200,
    )
    assert link["hasPassword"] is True
    url = link["link"]["webUrl"]
    assert requests.get(url, timeout=10).status_code == 401
    wrong = requests.get(url, auth=("public", "guess"), timeout=10)
    assert wrong.status_code == 401
    opened = requests.get(url, auth=("public", "Launch-Code-42"), timeout=10)
    assert (opened.status_code, opened.content) == (200, b"Come to the launch")
    changed = requests.put(
        url, data=b"defaced", auth=("public", "Launch-Code-42"), timeout=10
    )
    assert changed.status_code == 403
    assert alice.get(f"{home}/flyer.txt").content == b"Come to the launch"
    private = requests.get(
        f"{link['link']['webUrl']}/%2e%2e/private.txt",
        auth=("public", "Launch-Code-42"),
        timeout=10,
    )
    assert private.status_code == 400  # the one path-safety function refuses ..
