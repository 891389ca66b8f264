"""Drives through the graph API: listing, creating, updating, disabling,
restoring, purging, items and members; every answer checked against the
official Libre Graph document."""

from __future__ import annotations

import requests

from app import account_roles, roles, users
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
    drive, jail = answer.json()["value"]
    assert (jail["driveType"], jail["driveAlias"]) == ("virtual", "virtual/shares")
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
    # admin's, alice's, Mars and the admin's share jail
    assert len(everything.json()["value"]) == 4


def test_space_admins_create_project_drives(live: LiveServer, alice) -> None:
    refused = alice.post(graph(live, "/v1.0/drives"), json={"name": "Io"}, timeout=10)
    assert refused.status_code == 403
    account_roles.set_space_admin(users.get("alice"), True, actor="admin")
    made = alice.post(graph(live, "/v1.0/drives"), json={"name": "Io"}, timeout=10)
    assert made.status_code == 201, made.text
    assert_conforms(made)
    (manager,) = made.json()["root"]["permissions"]
    assert manager["grantedToV2"]["user"]["id"] == users.get("alice").id
    assert manager["roles"] == [roles.MANAGER.id]
    assert (live.settings.storage_dir / "projects" / "Io").is_dir()
    changed = AuditEvent.get(AuditEvent.action == "user_feature_changed")
    assert (changed.target, changed.detail) == ("alice", "role: space-admin")


def test_space_admins_oversee_project_drives_not_their_content(
    live: LiveServer, alice
) -> None:
    other = create(live, "Europa")
    url = f"{live.url}/dav/spaces/{other['id']}"
    assert admin(live).put(f"{url}/secret.txt", data=b"s").status_code == 201
    path = graph(live, f"/v1.0/drives/{other['id']}")
    assert alice.get(path).status_code == 404
    account_roles.set_space_admin(users.get("alice"), True)

    listed = alice.get(graph(live, "/v1.0/drives"), timeout=10)
    assert_conforms(listed)
    assert {d["name"] for d in listed.json()["value"]} == {"alice", "Europa", "Shares"}
    own = alice.get(graph(live, "/v1.0/me/drives")).json()["value"]
    assert [d["name"] for d in own] == ["alice", "Shares"]
    quota = alice.patch(path, json={"quota": {"total": 50}}, timeout=10)
    assert quota.status_code == 200, quota.text
    assert_conforms(quota)
    assert quota.json()["quota"]["total"] == 50
    assert alice.delete(path).status_code == 204
    assert alice.patch(path, json={}, headers={"Restore": "T"}).status_code == 200

    assert alice.get(f"{url}/secret.txt").status_code == 404
    root = alice.get(graph(live, f"/v1.0/drives/{other['id']}/root"))
    assert root.status_code == 404
    admins_home = admin(live).get(graph(live, "/v1.0/me/drive")).json()["id"]
    hidden = alice.get(graph(live, f"/v1.0/drives/{admins_home}"))
    assert hidden.status_code == 404


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


def test_query_options_on_drives(live: LiveServer, alice) -> None:
    for name in ("Ceres", "Vesta", "Pallas"):
        drive = create(live, name)
        invite(live, drive, "alice", roles.SPACE_VIEWER)
    url = graph(live, "/v1beta1/me/drives")

    def names(**params) -> list[str]:
        answer = alice.get(url, params=params, timeout=10)
        assert answer.status_code == 200, answer.text
        assert_conforms(answer)
        return [d["name"] for d in answer.json()["value"]]

    projects = {"$filter": "driveType eq 'project'"}
    assert names(**projects, **{"$orderby": "name desc"}) == [
        "Vesta",
        "Pallas",
        "Ceres",
    ]
    assert names(**projects, **{"$orderby": "name", "$top": "1", "$skip": "1"}) == [
        "Pallas"
    ]
    assert names(**{"$filter": "driveType eq 'personal'"}) == ["alice"]

    trashed = alice.get(url, params={"$select": "@libre.graph.hasTrashedItems"})
    assert_conforms(trashed)
    assert all(
        d["@libre.graph.hasTrashedItems"] is False for d in trashed.json()["value"]
    )
    assert all("quota" in d for d in trashed.json()["value"][:-1])  # not the jail
    alice.put(f"{live.dav()}/gone.txt", data=b"x")
    alice.delete(f"{live.dav()}/gone.txt")
    narrow = alice.get(
        url, params={"$select": "name,@libre.graph.hasTrashedItems", **projects}
    )
    assert_conforms(narrow)
    assert {tuple(sorted(d)) for d in narrow.json()["value"]} == {
        ("@libre.graph.hasTrashedItems", "id", "name")
    }
    mine = alice.get(
        graph(live, f"/v1.0/drives/{live.drive_id(alice)}"),
        params={"$select": "@libre.graph.hasTrashedItems"},
    )
    assert_conforms(mine)
    assert mine.json()["@libre.graph.hasTrashedItems"] is True

    plain = alice.get(graph(live, "/v1.0/me/drives"), params=projects).json()
    assert "permissions" not in plain["value"][0]["root"]
    expanded = alice.get(
        graph(live, "/v1.0/me/drives"),
        params={"$expand": "root($expand=permissions)", **projects},
    )
    assert_conforms(expanded)
    assert len(expanded.json()["value"][0]["root"]["permissions"]) == 2

    for params, code in (
        ({"$select": "colour"}, "invalidRequest"),
        ({"$expand": "items"}, "invalidRequest"),
        ({"$search": "mars"}, "notSupported"),
        ({"$filter": "quota eq 1"}, "invalidRequest"),
        ({"$orderby": "size"}, "invalidRequest"),
    ):
        refused = alice.get(url, params=params, timeout=10)
        assert refused.status_code == 400, params
        assert_conforms(refused)
        assert refused.json()["error"]["code"] == code, refused.text


def test_delete_honours_if_match(live: LiveServer) -> None:
    drive = create(live)
    boss = admin(live)
    path = graph(live, f"/v1.0/drives/{drive['id']}")
    stale = boss.delete(path, headers={"If-Match": '"stale"'}, timeout=10)
    assert stale.status_code == 412
    assert_conforms(stale)
    assert boss.get(path).json()["root"].get("deleted") is None
    current = boss.get(path).json()["eTag"]
    assert boss.delete(path, headers={"If-Match": current}).status_code == 204
    assert boss.get(path).json()["root"]["deleted"] == {"state": "trashed"}


def test_item_select_and_refused_options(live: LiveServer, alice) -> None:
    alice.request("MKCOL", f"{live.dav()}/docs")
    alice.put(f"{live.dav()}/docs/a.txt", data=b"hello")
    drive = live.drive_id(alice)
    root_id = alice.get(graph(live, f"/v1.0/drives/{drive}/root")).json()["id"]
    # The document has no root/children path: the root's items/<id>/children.
    children = alice.get(
        graph(live, f"/v1.0/drives/{drive}/items/{root_id}/children"),
        params={
            "$select": "@microsoft.graph.downloadUrl,"
            "@libre.graph.permissions.actions.allowedValues"
        },
    )
    assert_conforms(children)
    (docs,) = children.json()["value"]
    assert "@microsoft.graph.downloadUrl" not in docs  # folders have no content
    assert (
        "libre.graph/driveItem/children/create"
        in docs["@libre.graph.permissions.actions.allowedValues"]
    )
    inner = alice.get(
        graph(live, f"/v1.0/drives/{drive}/items/{docs['id']}/children"),
        params={"$select": "@microsoft.graph.downloadUrl"},
    ).json()["value"][0]
    assert alice.get(inner["@microsoft.graph.downloadUrl"]).content == b"hello"

    project = create(live)
    invite(live, project, "alice", roles.SPACE_VIEWER)
    root = alice.get(
        graph(live, f"/v1.0/drives/{project['id']}/root"),
        params={"$select": "@libre.graph.permissions.actions.allowedValues"},
    )
    assert_conforms(root)
    allowed = root.json()["@libre.graph.permissions.actions.allowedValues"]
    assert "libre.graph/driveItem/content/read" in allowed
    assert "libre.graph/driveItem/upload/create" not in allowed

    for params, code in (
        ({"$filter": "name eq 'docs'"}, "notSupported"),
        ({"$expand": "children"}, "notSupported"),
        ({"$select": "name"}, "invalidRequest"),
    ):
        refused = alice.get(
            graph(live, f"/v1.0/drives/{drive}/root/children"), params=params
        )
        assert refused.status_code == 400, params
        assert refused.json()["error"]["code"] == code


def test_every_space_change_is_audited(live: LiveServer, alice) -> None:
    boss = admin(live)
    drive = create(live, "Titan")
    path = graph(live, f"/v1.0/drives/{drive['id']}")
    invite(live, drive, "alice", roles.SPACE_VIEWER)
    members = boss.get(graph(live, f"/v1beta1/drives/{drive['id']}/root/permissions"))
    mine = next(
        p["id"]
        for p in members.json()["value"]
        if p["grantedToV2"]["user"]["id"] == users.get("alice").id
    )
    member = graph(live, f"/v1beta1/drives/{drive['id']}/root/permissions/{mine}")
    boss.patch(member, json={"roles": [roles.SPACE_EDITOR.id]})
    boss.delete(member)
    boss.patch(path, json={"name": "Rhea"})
    boss.patch(path, json={"description": "moon", "quota": {"total": 10}})
    boss.delete(path)
    boss.patch(path, json={}, headers={"Restore": "T"})
    boss.delete(path)
    assert boss.delete(path, headers={"Purge": "T"}).status_code == 204

    events = [
        (row.action, row.actor, row.address)
        for row in AuditEvent.select().order_by(AuditEvent.id)
        if row.action.startswith("space_")
    ]
    assert [action for action, _, _ in events] == [
        "space_created",
        "space_shared",
        "space_updated",
        "space_unshared",
        "space_renamed",
        "space_updated",
        "space_disabled",
        "space_enabled",
        "space_disabled",
        "space_deleted",
    ]
    assert {(actor, address) for _, actor, address in events} == {
        ("admin", "127.0.0.1")
    }


def test_groups_as_members_and_expiring_membership(live: LiveServer, alice) -> None:
    boss = admin(live)
    team = boss.post(graph(live, "/v1.0/groups"), json={"displayName": "crew"})
    assert team.status_code == 201, team.text
    ref = {"@odata.id": f"{live.url}/graph/v1.0/users/{users.get('alice').id}"}
    boss.post(graph(live, f"/v1.0/groups/{team.json()['id']}/members/$ref"), json=ref)
    drive = create(live)
    url = graph(live, f"/v1beta1/drives/{drive['id']}/root/invite")
    recipient = {"objectId": team.json()["id"], "@libre.graph.recipient.type": "group"}

    past = boss.post(
        url,
        json={
            "recipients": [recipient],
            "roles": [roles.SPACE_EDITOR.id],
            "expirationDateTime": "2020-01-01T00:00:00Z",
        },
    )
    assert past.status_code == 400
    assert_conforms(past)
    made = boss.post(
        url,
        json={
            "recipients": [recipient],
            "roles": [roles.SPACE_EDITOR.id],
            "expirationDateTime": "2100-01-01T00:00:00Z",
        },
    )
    assert made.status_code == 200, made.text
    assert_conforms(made)
    (member,) = made.json()["value"]
    assert member["grantedToV2"]["group"]["displayName"] == "crew"
    assert member["expirationDateTime"] == "2100-01-01T00:00:00Z"
    dav = f"{live.url}/dav/spaces/{drive['id']}"
    assert alice.put(f"{dav}/by-group.txt", data=b"g").status_code == 201
    twice = boss.post(
        url, json={"recipients": [recipient], "roles": [roles.MANAGER.id]}
    )
    assert twice.status_code == 409
    assert_conforms(twice)

    path = f"/v1beta1/drives/{drive['id']}/root/permissions/{member['id']}"
    endless = boss.patch(graph(live, path), json={"expirationDateTime": None})
    assert endless.status_code == 200, endless.text
    assert_conforms(endless)
    assert "expirationDateTime" not in endless.json()
    unknown_role = boss.patch(graph(live, path), json={"roles": [roles.EDITOR.id]})
    assert unknown_role.status_code == 400
    assert "not a space role" in unknown_role.json()["error"]["message"]


def test_a_project_drive_shared_by_link_from_its_root(live: LiveServer, alice) -> None:
    boss = admin(live)
    drive = create(live)
    invite(live, drive, "alice", roles.SPACE_VIEWER)
    dav = f"{live.url}/dav/spaces/{drive['id']}"
    boss.request("MKCOL", f"{dav}/maps")
    boss.put(f"{dav}/maps/crater.txt", data=b"crater")
    root = graph(live, f"/v1beta1/drives/{drive['id']}/root")

    refused = alice.post(f"{root}/createLink", json={"type": "view"})
    assert refused.status_code == 403
    assert_conforms(refused)
    made = boss.post(
        f"{root}/createLink", json={"type": "view", "password": "Olympus-1"}
    )
    assert made.status_code == 200, made.text
    assert_conforms(made)
    link = made.json()
    assert link["hasPassword"] is True and link["link"]["type"] == "view"
    public = f"{link['link']['webUrl']}/maps/crater.txt"
    assert requests.get(public, timeout=10).status_code == 401
    opened = requests.get(public, auth=("public", "Olympus-1"), timeout=10)
    assert opened.content == b"crater"

    listed = boss.get(f"{root}/permissions")
    assert_conforms(listed)
    kinds = sorted("link" if "link" in p else "member" for p in listed.json()["value"])
    assert kinds == ["link", "member", "member"]
    viewer_sees = alice.get(f"{root}/permissions").json()["value"]
    assert all("link" not in p for p in viewer_sees)  # a viewer sees members only
    one = f"{root}/permissions/{link['id']}"
    assert alice.get(one).status_code == 404
    fetched = boss.get(one)
    assert_conforms(fetched)

    changed = boss.patch(one, json={"link": {"type": "edit"}})
    assert changed.status_code == 200, changed.text
    assert_conforms(changed)
    assert changed.json()["link"]["type"] == "edit"
    no_roles = boss.patch(one, json={"roles": [roles.SPACE_EDITOR.id]})
    assert no_roles.status_code == 400
    unset = boss.post(f"{one}/setPassword", json={"password": ""})
    assert unset.status_code == 200, unset.text
    assert_conforms(unset)
    assert unset.json()["hasPassword"] is False
    assert requests.get(public, timeout=10).content == b"crater"
    written = requests.put(f"{link['link']['webUrl']}/maps/new.txt", data=b"n")
    assert written.status_code == 201

    assert alice.delete(one).status_code == 403
    assert boss.delete(one).status_code == 204
    assert requests.get(public, timeout=10).status_code == 404
    own = boss.get(graph(live, "/v1.0/me/drive")).json()["id"]
    personal = boss.post(
        graph(live, f"/v1beta1/drives/{own}/root/createLink"), json={"type": "view"}
    )
    assert personal.status_code == 400


def test_the_share_jail_is_one_of_my_drives(live: LiveServer, alice) -> None:
    live.add_user("bob")
    bob = live.session("bob")

    def jail() -> dict:
        answer = bob.get(
            graph(live, "/v1beta1/me/drives"),
            params={"$filter": "driveType eq 'virtual'"},
        )
        assert_conforms(answer)
        (found,) = answer.json()["value"]
        return found

    empty = jail()
    assert empty["name"] == "Shares"
    jail_id = "a0ca6a90-a365-4782-871e-d44447bbc668"
    assert empty["id"] == f"{jail_id}${jail_id}"  # OpenCloud's fixed id
    webdav = empty["root"]["webDavUrl"]
    assert bob.request("PROPFIND", webdav + "/", headers={"Depth": "1"}).ok

    alice.request("MKCOL", f"{live.dav()}/docs")
    drive = live.drive_id(alice)
    root = alice.get(graph(live, f"/v1.0/drives/{drive}/root")).json()["id"]
    docs = alice.get(graph(live, f"/v1.0/drives/{drive}/items/{root}/children"))
    body = {
        "recipients": [
            {"objectId": users.get("bob").id, "@libre.graph.recipient.type": "user"}
        ],
        "roles": [roles.VIEWER.id],
    }
    folder = docs.json()["value"][0]["id"]
    shared = alice.post(
        graph(live, f"/v1beta1/drives/{drive}/items/{folder}/invite"), json=body
    )
    assert shared.status_code == 200, shared.text
    after = jail()
    assert after["root"]["eTag"] != empty["root"]["eTag"]
    assert "lastModifiedDateTime" in after
    one = bob.get(graph(live, f"/v1.0/drives/{after['id']}"))
    assert_conforms(one)
    assert one.json()["root"]["eTag"] == after["root"]["eTag"]
    listing = bob.request("PROPFIND", webdav + "/", headers={"Depth": "1"})
    assert "docs" in listing.text
    changed = bob.patch(graph(live, f"/v1.0/drives/{after['id']}"), json={"name": "X"})
    assert changed.status_code == 404


def test_admins_set_personal_quotas(live: LiveServer, alice) -> None:
    path = graph(live, f"/v1.0/drives/{live.drive_id(alice)}")
    own = alice.patch(path, json={"quota": {"total": 10**9}}, timeout=10)
    assert own.status_code == 403
    assert_conforms(own)
    account_roles.set_space_admin(users.get("alice"), True)
    still = alice.patch(path, json={"quota": {"total": 10**9}}, timeout=10)
    assert still.status_code == 403  # space admins oversee project drives only
    limited = admin(live).patch(path, json={"quota": {"total": 100}}, timeout=10)
    assert limited.status_code == 200, limited.text
    assert_conforms(limited)
    assert limited.json()["quota"]["total"] == 100
    assert alice.put(f"{live.dav()}/big.bin", data=b"x" * 101).status_code == 507
    assert alice.get(f"{live.dav()}/big.bin").status_code == 404
    renamed = admin(live).patch(path, json={"name": "Alicia"}, timeout=10)
    assert renamed.status_code == 403  # a personal drive is named after its user
    negative = admin(live).patch(path, json={"quota": {"total": -1}}, timeout=10)
    assert negative.status_code == 400
    assert_conforms(negative)
