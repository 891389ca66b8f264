"""Drives through the graph API: listing, creating, updating, disabling,
restoring, purging, items and members; every answer checked against the
official Libre Graph document."""

from __future__ import annotations

import requests

from app import roles, spaces, users
from app.models import AuditEvent
from tests.conftest import LiveServer
from tests.graph.contract import assert_conforms


def admin(live: LiveServer) -> requests.Session:
    return live.session("admin", "admin-password-1")


def graph(live: LiveServer, path: str) -> str:
    return f"{live.url}/graph{path}"


def create(live: LiveServer, name: str = "Mars", **extra) -> dict:
    answer = admin(live).post(
        graph(live, "/v1.0/drives"), json={"name": name, **extra}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    assert_conforms(answer)
    return answer.json()


def invite(live, drive, user, role, session=None) -> requests.Response:
    session = session or admin(live)
    body = {
        "recipients": [
            {"objectId": users.get(user).id, "@libre.graph.recipient.type": "user"}
        ],
        "roles": [role.id],
    }
    return session.post(
        graph(live, f"/v1beta1/drives/{drive['id']}/root/invite"), json=body, timeout=10
    )


def test_my_drives_list_the_personal_drive(live: LiveServer, alice) -> None:
    answer = alice.get(graph(live, "/v1.0/me/drives"), timeout=10)
    assert answer.status_code == 200
    assert_conforms(answer)
    (drive,) = answer.json()["value"]
    assert drive["driveType"] == "personal"
    assert drive["driveAlias"] == "personal/alice"
    assert drive["id"] == live.drive_id(alice)
    assert drive["root"]["webDavUrl"].endswith(f"/dav/spaces/{drive['id']}")
    assert drive["quota"]["state"] == "normal"
    mine = alice.get(graph(live, "/v1.0/me/drive"), timeout=10)
    assert_conforms(mine)
    assert mine.json()["id"] == drive["id"]


def test_admin_creates_a_project_drive_members_see_it(live: LiveServer, alice) -> None:
    refused = alice.post(graph(live, "/v1.0/drives"), json={"name": "X"}, timeout=10)
    assert refused.status_code == 403
    assert_conforms(refused)
    drive = create(live, "Mars", description="Red", quota={"total": 5000})
    assert (drive["driveType"], drive["name"], drive["description"]) == (
        "project",
        "Mars",
        "Red",
    )
    assert drive["quota"]["total"] == 5000
    assert drive["driveAlias"] == "project/mars"

    assert alice.get(graph(live, f"/v1.0/drives/{drive['id']}")).status_code == 404
    assert invite(live, drive, "alice", roles.SPACE_VIEWER).status_code == 200
    seen = alice.get(graph(live, f"/v1.0/drives/{drive['id']}"), timeout=10)
    assert seen.status_code == 200
    assert_conforms(seen)

    beta = alice.get(
        graph(live, "/v1beta1/me/drives"),
        params={"$filter": "driveType eq 'project'"},
        timeout=10,
    )
    assert_conforms(beta)
    (listed,) = beta.json()["value"]
    granted = {
        p["grantedToV2"]["user"]["id"]: p["roles"]
        for p in listed["root"]["permissions"]
    }
    assert granted[users.get("alice").id] == [roles.SPACE_VIEWER.id]
    assert granted[users.get("admin").id] == [roles.MANAGER.id]

    everything = admin(live).get(graph(live, "/v1.0/drives"), timeout=10)
    assert_conforms(everything)
    assert len(everything.json()["value"]) == 3  # admin's, alice's, Mars


def test_space_admins_create_project_drives(live: LiveServer, alice) -> None:
    refused = alice.post(graph(live, "/v1.0/drives"), json={"name": "Io"}, timeout=10)
    assert refused.status_code == 403
    spaces.set_space_admin(users.get("alice"), True, actor="admin")
    made = alice.post(graph(live, "/v1.0/drives"), json={"name": "Io"}, timeout=10)
    assert made.status_code == 201, made.text
    assert_conforms(made)
    (manager,) = made.json()["root"]["permissions"]
    assert manager["grantedToV2"]["user"]["id"] == users.get("alice").id
    assert manager["roles"] == [roles.MANAGER.id]
    assert (live.settings.storage_dir / "projects" / "Io").is_dir()
    changed = AuditEvent.get(AuditEvent.action == "user_feature_changed")
    assert (changed.target, changed.detail) == ("alice", "space admin: yes")


def test_viewer_reads_over_dav_editor_writes(live: LiveServer, alice) -> None:
    drive = create(live)
    invite(live, drive, "alice", roles.SPACE_VIEWER)
    url = f"{live.url}/dav/spaces/{drive['id']}"
    boss = admin(live)
    assert boss.put(f"{url}/a.txt", data=b"a").status_code == 201
    assert alice.get(f"{url}/a.txt").content == b"a"
    assert alice.put(f"{url}/a.txt", data=b"b").status_code == 403

    members = alice.get(
        graph(live, f"/v1beta1/drives/{drive['id']}/root/permissions"), timeout=10
    )
    assert_conforms(members)
    assert len(members.json()["@libre.graph.permissions.roles.allowedValues"]) == 4
    mine = next(
        p
        for p in members.json()["value"]
        if p["grantedToV2"]["user"]["id"] == users.get("alice").id
    )
    path = f"/v1beta1/drives/{drive['id']}/root/permissions/{mine['id']}"
    denied = alice.patch(
        graph(live, path), json={"roles": [roles.SPACE_EDITOR.id]}, timeout=10
    )
    assert denied.status_code == 403
    changed = boss.patch(
        graph(live, path), json={"roles": [roles.SPACE_EDITOR.id]}, timeout=10
    )
    assert changed.status_code == 200, changed.text
    assert_conforms(changed)
    assert alice.put(f"{url}/a.txt", data=b"b").status_code == 204

    removed = boss.delete(graph(live, path), timeout=10)
    assert removed.status_code == 204
    assert alice.get(f"{url}/a.txt").status_code == 404


def test_last_manager_cannot_leave(live: LiveServer) -> None:
    drive = create(live)
    boss = admin(live)
    listing = boss.get(
        graph(live, f"/v1beta1/drives/{drive['id']}/root/permissions"), timeout=10
    ).json()["value"]
    (manager,) = listing
    path = f"/v1beta1/drives/{drive['id']}/root/permissions/{manager['id']}"
    answer = boss.delete(graph(live, path), timeout=10)
    assert answer.status_code == 403
    assert_conforms(answer)


def test_disable_restore_purge(live: LiveServer, alice) -> None:
    drive = create(live)
    invite(live, drive, "alice", roles.SPACE_EDITOR)
    url = f"{live.url}/dav/spaces/{drive['id']}"
    assert alice.put(f"{url}/a.txt", data=b"a").status_code == 201
    path = graph(live, f"/v1.0/drives/{drive['id']}")
    boss = admin(live)

    assert alice.delete(path, timeout=10).status_code == 403
    assert boss.delete(path, timeout=10).status_code == 204
    assert alice.get(f"{url}/a.txt").status_code == 404
    assert alice.get(path, timeout=10).status_code == 404
    assert not [
        d
        for d in alice.get(graph(live, "/v1.0/me/drives")).json()["value"]
        if d["driveType"] == "project"
    ]
    disabled = boss.get(path, timeout=10).json()
    assert disabled["root"]["deleted"]["state"] == "trashed"

    restored = boss.patch(path, json={}, headers={"Restore": "T"}, timeout=10)
    assert restored.status_code == 200, restored.text
    assert_conforms(restored)
    assert alice.get(f"{url}/a.txt").content == b"a"

    refused = boss.delete(path, headers={"Purge": "T"}, timeout=10)
    assert refused.status_code == 400
    boss.delete(path, timeout=10)
    assert boss.delete(path, headers={"Purge": "T"}, timeout=10).status_code == 204
    assert boss.get(path, timeout=10).status_code == 404
    assert not (live.settings.storage_dir / "projects" / "Mars").exists()


def test_personal_drive_is_not_disabled(live: LiveServer, alice) -> None:
    own = alice.get(graph(live, "/v1.0/me/drive")).json()
    answer = alice.delete(graph(live, f"/v1.0/drives/{own['id']}"), timeout=10)
    assert answer.status_code == 403
    assert (
        admin(live)
        .delete(graph(live, f"/v1.0/drives/{own['id']}"), timeout=10)
        .status_code
        == 403
    )


def test_rename_and_quota(live: LiveServer, alice) -> None:
    drive = create(live)
    invite(live, drive, "alice", roles.MANAGER)
    path = graph(live, f"/v1.0/drives/{drive['id']}")
    renamed = alice.patch(path, json={"name": "Phobos"}, timeout=10)
    assert renamed.status_code == 200
    assert_conforms(renamed)
    assert renamed.json()["name"] == "Phobos"
    assert renamed.json()["driveAlias"] == "project/mars"  # the folder stays
    no_quota = alice.patch(path, json={"quota": {"total": 10}}, timeout=10)
    assert no_quota.status_code == 403
    quota = admin(live).patch(path, json={"quota": {"total": 100}}, timeout=10)
    assert quota.json()["quota"]["total"] == 100
    url = f"{live.url}/dav/spaces/{drive['id']}"
    assert alice.put(f"{url}/big.bin", data=b"x" * 101).status_code == 507
    assert alice.put(f"{url}/ok.bin", data=b"x" * 80).status_code == 201
    figures = alice.get(path, timeout=10).json()["quota"]
    assert (figures["used"], figures["remaining"], figures["state"]) == (
        80,
        20,
        "nearing",
    )
    unknown = alice.patch(path, json={"colour": "red"}, timeout=10)
    assert unknown.status_code == 400


def test_items_and_children(live: LiveServer, alice) -> None:
    alice.request("MKCOL", f"{live.dav()}/docs")
    alice.put(f"{live.dav()}/docs/a.txt", data=b"hello")
    drive = alice.get(graph(live, "/v1.0/me/drive")).json()
    root = alice.get(graph(live, f"/v1.0/drives/{drive['id']}/root"), timeout=10)
    assert_conforms(root)
    children = alice.get(
        graph(live, f"/v1.0/drives/{drive['id']}/root/children"), timeout=10
    )
    (docs,) = children.json()["value"]
    assert docs["name"] == "docs" and "folder" in docs
    inner = alice.get(
        graph(live, f"/v1.0/drives/{drive['id']}/items/{docs['id']}/children"),
        timeout=10,
    )
    assert_conforms(inner)
    (file,) = inner.json()["value"]
    assert (file["name"], file["size"]) == ("a.txt", 5)
    one = alice.get(
        graph(live, f"/v1.0/drives/{drive['id']}/items/{file['id']}"), timeout=10
    )
    assert_conforms(one)
    assert one.json()["file"]["mimeType"] == "text/plain"
    live.add_user("eve")
    eve = live.session("eve")
    hidden = eve.get(graph(live, f"/v1.0/drives/{drive['id']}/items/{file['id']}"))
    assert hidden.status_code == 404
