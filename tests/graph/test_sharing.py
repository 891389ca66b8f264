"""Sharing through the graph API: invite, createLink, an item's permissions,
sharedWithMe and sharedByMe, and what each recipient can then do over
WebDAV; every /graph answer checked against the official Libre Graph document
(by a response hook on each session, and named where a test leans on it)."""

from __future__ import annotations

import datetime

import pytest
import requests

from app import groups, roles, shares, spaces, users
from app.models import AuditEvent
from tests.conftest import LiveServer
from tests.graph.contract import assert_conforms

JAIL = shares.JAIL_DRIVE_ID


@pytest.fixture(autouse=True)
def every_answer_conforms(alice: requests.Session) -> None:
    """alice's and every other user's /graph answers are checked against the
    Libre Graph document, whether or not a test looks at them."""
    checked(alice)


def checked(session: requests.Session) -> requests.Session:
    def conforms(response: requests.Response, *args: object, **kwargs: object) -> None:
        if "/graph/" in response.url:
            assert_conforms(response)

    session.hooks["response"].append(conforms)
    return session


def graph(live: LiveServer, path: str) -> str:
    return f"{live.url}/graph{path}"


def folder(live: LiveServer, session: requests.Session, user: str, name: str) -> dict:
    """Make ``name`` with a file in it in ``user``'s space; its driveItem."""
    base = live.dav(user)
    assert session.request("MKCOL", f"{base}/{name}").status_code == 201
    assert session.put(f"{base}/{name}/a.txt", data=b"alpha").status_code == 201
    return child(live, session, name)


def child(live: LiveServer, session: requests.Session, name: str) -> dict:
    listing = session.get(graph(live, "/v1.0/me/drive/root/children"), timeout=10)
    assert listing.status_code == 200, listing.text
    return next(item for item in listing.json()["value"] if item["name"] == name)


def root_children(space) -> str:
    """A project drive's root folder's children, by the root's item id (the
    document's path; it has no drives/{id}/root/children)."""
    drive = spaces.drive_id(space)
    return f"/v1.0/drives/{drive}/items/{drive}!{space.id}/children"


def item_url(item: dict, tail: str = "") -> str:
    drive = item["parentReference"]["driveId"]
    return f"/v1beta1/drives/{drive}/items/{item['id']}{tail}"


def invite(
    live: LiveServer,
    session: requests.Session,
    item: dict,
    recipient: str,
    role: roles.Role,
    kind: str = "user",
    **extra: object,
) -> requests.Response:
    found = users.get(recipient).id if kind == "user" else groups.get(recipient).id
    body = {
        "recipients": [{"objectId": found, "@libre.graph.recipient.type": kind}],
        "roles": [role.id],
        **extra,
    }
    answer = session.post(graph(live, item_url(item, "/invite")), json=body)
    assert_conforms(answer)
    return answer


def user(live: LiveServer, name: str) -> requests.Session:
    live.add_user(name)
    return checked(live.session(name))


def actions_since(start: float) -> list[str]:
    query = AuditEvent.select().where(AuditEvent.time >= start)
    return [str(event.action) for event in query.order_by(AuditEvent.id)]


def test_a_folder_shared_with_a_user_appears_in_their_jail(
    live: LiveServer, alice: requests.Session
) -> None:
    bob = user(live, "bob")
    item = folder(live, alice, "alice", "Project")

    answer = invite(live, alice, item, "bob", roles.EDITOR)

    assert answer.status_code == 200, answer.text
    (made,) = answer.json()["value"]
    assert made["roles"] == [roles.EDITOR.id]
    assert made["grantedToV2"]["user"]["id"] == users.get("bob").id
    assert made["invitation"]["invitedBy"]["user"]["id"] == users.get("alice").id
    received = bob.get(graph(live, "/v1beta1/me/drive/sharedWithMe"))
    assert_conforms(received)
    (shared,) = received.json()["value"]
    assert shared["name"] == "Project"
    assert shared["remoteItem"]["id"] == item["id"]
    assert shared["@client.synchronize"] is True
    assert shared["@UI.Hidden"] is False
    assert bob.get(f"{live.url}/dav/spaces/{JAIL}/Project/a.txt").content == b"alpha"
    in_files = f"{live.dav('bob')}/Shares/Project/b.txt"
    assert bob.put(in_files, data=b"from bob").status_code == 201
    assert (live.user_root("alice") / "Project" / "b.txt").read_bytes() == b"from bob"
    by_id = f"{live.url}/dav/spaces/{shared['id']}/a.txt"
    assert bob.get(by_id).content == b"alpha"


def test_a_viewer_may_read_but_not_change(
    live: LiveServer, alice: requests.Session
) -> None:
    bob = user(live, "bob")
    item = folder(live, alice, "alice", "Read")
    assert invite(live, alice, item, "bob", roles.VIEWER).status_code == 200

    base = f"{live.url}/dav/spaces/{JAIL}/Read"
    assert bob.get(f"{base}/a.txt").status_code == 200
    assert bob.put(f"{base}/a.txt", data=b"x").status_code == 403
    assert bob.delete(f"{base}/a.txt").status_code == 403
    assert (live.user_root("alice") / "Read" / "a.txt").read_bytes() == b"alpha"


def test_a_group_share_reaches_its_members_and_equal_names_are_numbered(
    live: LiveServer, alice: requests.Session
) -> None:
    bob, carol = user(live, "bob"), user(live, "carol")
    team = groups.create("team")
    groups.add_member(team, users.get("bob"))
    first = folder(live, alice, "alice", "Project")
    second = folder(live, carol, "carol", "Project")

    assert invite(live, alice, first, "team", roles.VIEWER, "group").status_code == 200
    assert invite(live, carol, second, "bob", roles.EDITOR).status_code == 200

    received = bob.get(graph(live, "/v1beta1/me/drive/sharedWithMe"))
    assert_conforms(received)
    names = {i["remoteItem"]["id"]: i["name"] for i in received.json()["value"]}
    assert names == {first["id"]: "Project", second["id"]: "Project (2)"}
    jail = f"{live.url}/dav/spaces/{JAIL}"
    assert bob.put(f"{jail}/Project (2)/new.txt", data=b"n").status_code == 201
    assert (live.user_root("carol") / "Project" / "new.txt").exists()
    assert bob.put(f"{jail}/Project/new.txt", data=b"n").status_code == 403


def test_invite_refuses_bad_requests_and_keeps_state(
    live: LiveServer, alice: requests.Session
) -> None:
    user(live, "bob")
    item = folder(live, alice, "alice", "Project")
    file_item = child(live, alice, "Project")

    past = {"expirationDateTime": "2001-01-01T00:00:00Z"}
    refusals = [
        invite(live, alice, item, "bob", roles.FILE_EDITOR),  # a file's role
        invite(live, alice, item, "bob", roles.MANAGER),  # a space's role
        invite(live, alice, item, "bob", roles.VIEWER, **past),
    ]
    for answer in refusals:
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["message"]
    unknown = alice.post(
        graph(live, item_url(file_item, "/invite")),
        json={"recipients": [{"objectId": "nobody"}], "roles": [roles.VIEWER.id]},
    )
    assert unknown.status_code == 400
    assert "nobody" in unknown.json()["error"]["message"]
    custom = alice.post(
        graph(live, item_url(item, "/invite")),
        json={
            "recipients": [{"objectId": users.get("bob").id}],
            "@libre.graph.permissions.actions": ["libre.graph/driveItem/basic/read"],
        },
    )
    assert custom.status_code == 400
    assert custom.json()["error"]["code"] == "notSupported"
    listing = alice.get(graph(live, item_url(item, "/permissions")))
    assert_conforms(listing)
    assert listing.json()["value"] == []
    assert invite(live, alice, item, "bob", roles.VIEWER).status_code == 200
    assert invite(live, alice, item, "bob", roles.VIEWER).status_code == 409


def test_an_expired_share_gives_no_access(
    live: LiveServer, alice: requests.Session
) -> None:
    bob = user(live, "bob")
    item = folder(live, alice, "alice", "Soon")
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    answer = invite(
        live,
        alice,
        item,
        "bob",
        roles.VIEWER,
        expirationDateTime=later.isoformat().replace("+00:00", "Z"),
    )
    assert answer.status_code == 200
    assert answer.json()["value"][0]["expirationDateTime"].startswith(
        later.strftime("%Y-%m-%d")
    )
    assert bob.get(f"{live.url}/dav/spaces/{JAIL}/Soon/a.txt").status_code == 200

    grant = shares.get(answer.json()["value"][0]["id"])
    grant.expires = 1.0
    grant.save()

    assert bob.get(f"{live.url}/dav/spaces/{JAIL}/Soon/a.txt").status_code == 404
    received = bob.get(graph(live, "/v1beta1/me/drive/sharedWithMe"))
    assert received.json()["value"] == []


def test_links_of_each_kind_with_password_and_expiry(
    live: LiveServer, alice: requests.Session
) -> None:
    item = folder(live, alice, "alice", "Public")
    created = alice.post(
        graph(live, item_url(item, "/createLink")),
        json={"type": "upload", "password": "s3cret-pass", "displayName": "Drop"},
    )
    assert created.status_code == 200, created.text
    assert_conforms(created)
    link = created.json()
    assert link["hasPassword"] is True
    assert link["link"]["type"] == "upload"
    assert link["link"]["@libre.graph.displayName"] == "Drop"
    url = link["link"]["webUrl"]
    assert url.startswith(f"{live.url}/dav/public-files/")

    assert requests.get(f"{url}/a.txt").status_code == 401
    assert requests.get(f"{url}/a.txt", auth=("x", "wrong")).status_code == 401
    opened = requests.get(f"{url}/a.txt", auth=("anyone", "s3cret-pass"))
    assert opened.content == b"alpha"
    put = requests.put(f"{url}/up.txt", data=b"up", auth=("public", "s3cret-pass"))
    assert put.status_code == 201
    uploaded = (live.user_root("alice") / "Public" / "up.txt").read_bytes()
    assert uploaded == b"up"

    stored = str(shares.get(link["id"]).password_hash)
    assert stored.startswith("$argon2") and "s3cret-pass" not in stored

    cleared = alice.post(
        graph(live, item_url(item, f"/permissions/{link['id']}/setPassword")),
        json={"password": ""},
    )
    assert_conforms(cleared)
    assert cleared.json()["hasPassword"] is False
    assert requests.get(f"{url}/a.txt").content == b"alpha"

    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    expiring = alice.patch(
        graph(live, item_url(item, f"/permissions/{link['id']}")),
        json={"expirationDateTime": soon.isoformat()},
    )
    assert_conforms(expiring)
    assert "expirationDateTime" in expiring.json()
    grant = shares.get(link["id"])
    grant.expires = 1.0
    grant.save()
    assert requests.get(f"{url}/a.txt").status_code == 404


def test_link_types_that_do_not_fit_are_refused(
    live: LiveServer, alice: requests.Session
) -> None:
    assert alice.put(f"{live.dav()}/note.txt", data=b"n").status_code == 201
    note = child(live, alice, "note.txt")
    for body, code in (
        ({"type": "upload"}, "invalidRequest"),  # upload needs a folder
        ({"type": "createOnly"}, "invalidRequest"),
        ({"type": "everything"}, "invalidRequest"),
        ({"type": "view", "@libre.graph.quickLink": True}, "notSupported"),
        ({"type": "view", "expirationDateTime": "2001-01-01T00:00:00Z"}, None),
    ):
        answer = alice.post(graph(live, item_url(note, "/createLink")), json=body)
        assert answer.status_code == 400, body
        assert_conforms(answer)
        if code is not None:
            assert answer.json()["error"]["code"] == code
    listing = alice.get(graph(live, item_url(note, "/permissions")))
    assert listing.json()["value"] == []


def test_permissions_are_listed_changed_and_removed_and_audited(
    live: LiveServer, alice: requests.Session
) -> None:
    bob = user(live, "bob")
    item = folder(live, alice, "alice", "Work")
    start = datetime.datetime.now(datetime.UTC).timestamp() - 1
    share = invite(live, alice, item, "bob", roles.EDITOR).json()["value"][0]
    link = alice.post(
        graph(live, item_url(item, "/createLink")), json={"type": "view"}
    ).json()

    listing = alice.get(graph(live, item_url(item, "/permissions")))
    assert_conforms(listing)
    body = listing.json()
    assert [p["id"] for p in body["value"]] == [share["id"], link["id"]]
    allowed = {r["id"] for r in body["@libre.graph.permissions.roles.allowedValues"]}
    assert roles.EDITOR.id in allowed and roles.FILE_EDITOR.id not in allowed
    # bob sees the item's permissions that are his, never a link's URL.
    jail_item = bob.get(graph(live, "/v1beta1/me/drive/sharedWithMe")).json()
    mine = bob.get(graph(live, item_url(item, "/permissions")))
    assert_conforms(mine)
    assert [p["id"] for p in mine.json()["value"]] == [share["id"]]
    assert mine.json()["@libre.graph.permissions.roles.allowedValues"] == []
    assert jail_item["value"][0]["remoteItem"]["permissions"][0]["id"] == share["id"]

    path = item_url(item, f"/permissions/{share['id']}")
    changed = alice.patch(graph(live, path), json={"roles": [roles.VIEWER.id]})
    assert_conforms(changed)
    assert changed.json()["roles"] == [roles.VIEWER.id]
    jail = f"{live.url}/dav/spaces/{JAIL}/Work"
    assert bob.put(f"{jail}/b.txt", data=b"b").status_code == 403
    past = alice.patch(
        graph(live, path), json={"expirationDateTime": "2001-01-01T00:00:00Z"}
    )
    assert past.status_code == 400
    assert_conforms(past)
    refused = bob.patch(graph(live, path), json={"roles": [roles.EDITOR.id]})
    assert refused.status_code == 403
    assert_conforms(refused)
    link_path = item_url(item, f"/permissions/{link['id']}")
    renamed = alice.patch(
        graph(live, link_path),
        json={"link": {"type": "blocksDownload", "@libre.graph.displayName": "Look"}},
    )
    assert_conforms(renamed)
    assert renamed.json()["link"]["preventsDownload"] is True
    assert alice.patch(graph(live, link_path), json={"roles": []}).status_code == 400
    locked = alice.patch(graph(live, link_path), json={"password": "patched-pass"})
    assert locked.json()["hasPassword"] is True
    no_password = alice.patch(graph(live, path), json={"password": "x"})
    assert no_password.status_code == 400

    removed = alice.delete(graph(live, path))
    assert removed.status_code == 204
    assert bob.get(f"{jail}/a.txt").status_code == 404
    gone = alice.get(graph(live, path))
    assert gone.status_code == 404
    assert_conforms(gone)
    alice.post(
        graph(live, item_url(item, f"/permissions/{link['id']}/setPassword")),
        json={"password": "another-pass"},
    )
    assert actions_since(start).count("file_shared") == 2
    unshared = AuditEvent.get(AuditEvent.action == "file_unshared")
    assert (unshared.actor, unshared.address) == ("alice", "127.0.0.1")
    assert unshared.target == item["id"]
    for action in (
        "share_permission_updated",
        "share_name_updated",
        "file_unshared",
        "share_password_updated",
        "share_accepted",
    ):
        assert action in actions_since(start), action


def test_shared_by_me_lists_items_with_their_permissions(
    live: LiveServer, alice: requests.Session
) -> None:
    user(live, "bob")
    item = folder(live, alice, "alice", "Mine")
    invite(live, alice, item, "bob", roles.VIEWER)
    alice.post(graph(live, item_url(item, "/createLink")), json={"type": "view"})

    answer = alice.get(graph(live, "/v1beta1/me/drive/sharedByMe"))

    assert_conforms(answer)
    (shared,) = answer.json()["value"]
    assert shared["id"] == item["id"]
    assert {"roles" in p for p in shared["permissions"]} == {True, False}
    again = alice.get(graph(live, "/v1beta1/me/drive/sharedByMe"))
    assert answer.json() == again.json()


def test_a_recipient_hides_a_share_or_stops_syncing_it(
    live: LiveServer, alice: requests.Session
) -> None:
    bob = user(live, "bob")
    item = folder(live, alice, "alice", "Sync")
    invite(live, alice, item, "bob", roles.VIEWER)
    (shared,) = bob.get(graph(live, "/v1beta1/me/drive/sharedWithMe")).json()["value"]
    path = graph(live, f"/v1beta1/drives/{JAIL}/items/{shared['id']}")
    jail = f"{live.url}/remote.php/dav/files/bob/Shares"

    hidden = bob.patch(path, json={"@UI.Hidden": True})
    assert_conforms(hidden)
    assert hidden.json()["@UI.Hidden"] is True
    assert bob.get(f"{jail}/Sync/a.txt").status_code == 200

    unsynced = bob.patch(path, json={"@client.synchronize": False})
    assert_conforms(unsynced)
    assert bob.get(f"{jail}/Sync/a.txt").status_code == 404
    listed = bob.get(graph(live, "/v1beta1/me/drive/sharedWithMe")).json()["value"]
    assert [s["@client.synchronize"] for s in listed] == [False]

    assert bob.patch(path, json={"@client.synchronize": True}).status_code == 200
    assert bob.get(f"{jail}/Sync/a.txt").status_code == 200
    assert bob.delete(path).status_code == 204
    assert bob.get(f"{jail}/Sync/a.txt").status_code == 404
    unknown = bob.patch(path, json={"name": "Other"})
    assert unknown.status_code == 400
    assert_conforms(unknown)
    carol = user(live, "carol")
    assert carol.patch(path, json={"@UI.Hidden": True}).status_code == 404


def test_a_real_shares_folder_keeps_its_name_and_content(
    live: LiveServer, alice: requests.Session
) -> None:
    bob = user(live, "bob")
    # Over WebDAV the name is the jail's; a folder brought in on disk (a
    # migration, a POSIX user) keeps it.
    assert alice.request("MKCOL", f"{live.dav()}/Shares").status_code == 405
    (live.user_root("alice") / "Shares").mkdir()
    assert alice.put(f"{live.dav()}/Shares/own.txt", data=b"own").status_code == 201
    item = folder(live, bob, "bob", "FromBob")
    invite(live, bob, item, "alice", roles.VIEWER)

    assert alice.get(f"{live.dav()}/Shares/own.txt").content == b"own"
    assert alice.get(f"{live.dav()}/Shares/FromBob/a.txt").status_code == 404
    jail = f"{live.url}/dav/spaces/{JAIL}/FromBob/a.txt"
    assert alice.get(jail).content == b"alpha"


def test_resharing_needs_a_role_that_allows_it(
    live: LiveServer, alice: requests.Session
) -> None:
    bob = user(live, "bob")
    user(live, "carol")
    item = folder(live, alice, "alice", "Team")
    invite(live, alice, item, "bob", roles.EDITOR)
    (shared,) = bob.get(graph(live, "/v1beta1/me/drive/sharedWithMe")).json()["value"]
    jail_item = {"id": shared["id"], "parentReference": {"driveId": JAIL}}

    for target in (item, jail_item):
        again = invite(live, bob, target, "carol", roles.VIEWER)
        assert again.status_code == 403, again.text
        link = bob.post(graph(live, item_url(target, "/createLink")), json={})
        assert link.status_code == 403
    assert len(shares.on_item(_tree_item(live, "alice", "Team"))) == 1
    refused = AuditEvent.select().where(
        (AuditEvent.actor == "bob") & (AuditEvent.outcome == "denied")
    )
    assert {(e.action, e.address) for e in refused} == {("file_shared", "127.0.0.1")}
    assert refused.count() == 4

    space = spaces.create_project(
        live.settings.storage_dir, "Mars", creator=users.get("alice")
    )
    spaces.add_member(space, "user", users.get("bob").id, roles.SPACE_EDITOR.id)
    mars = f"{live.url}/dav/spaces/{spaces.drive_id(space)}"
    assert alice.request("MKCOL", f"{mars}/Plans").status_code == 201
    plans = alice.get(graph(live, root_children(space))).json()["value"][0]
    assert invite(live, bob, plans, "carol", roles.VIEWER).status_code == 403
    assert invite(live, alice, plans, "carol", roles.EDITOR).status_code == 200


def _tree_item(live: LiveServer, owner: str, name: str):
    space = spaces.personal_space(users.get(owner))
    found = live.app.grove.tree(space).item([name])
    assert found is not None
    return found


def test_a_manager_denies_a_member_one_folder(
    live: LiveServer, alice: requests.Session
) -> None:
    bob, carol = user(live, "bob"), user(live, "carol")
    space = spaces.create_project(
        live.settings.storage_dir, "Mars", creator=users.get("alice")
    )
    drive = spaces.drive_id(space)
    for name, role in (("bob", roles.SPACE_EDITOR), ("carol", roles.SPACE_VIEWER)):
        spaces.add_member(space, "user", users.get(name).id, role.id)
    bob_id = users.get("bob").id
    mars = f"{live.url}/dav/spaces/{drive}"
    assert alice.request("MKCOL", f"{mars}/Secret").status_code == 201
    assert alice.put(f"{mars}/Secret/plan.txt", data=b"p").status_code == 201
    assert alice.put(f"{mars}/open.txt", data=b"o").status_code == 201
    secret = next(
        i
        for i in alice.get(graph(live, root_children(space))).json()["value"]
        if i["name"] == "Secret"
    )
    listing = alice.get(graph(live, item_url(secret, "/permissions"))).json()
    allowed = listing["@libre.graph.permissions.roles.allowedValues"]
    assert roles.DENIED.id in {r["id"] for r in allowed}

    assert invite(live, carol, secret, "bob", roles.DENIED).status_code == 403
    assert invite(live, alice, secret, "bob", roles.DENIED).status_code == 200

    answer = bob.request("PROPFIND", f"{mars}/", headers={"Depth": "1"})
    assert answer.status_code == 207
    assert "open.txt" in answer.text and "Secret" not in answer.text
    assert bob.get(f"{mars}/Secret/plan.txt").status_code == 404
    assert bob.put(f"{mars}/Secret/new.txt", data=b"n").status_code in (403, 404, 409)
    by_id = f"/v1.0/drives/{drive}/items/{secret['id']}"
    assert bob.get(graph(live, by_id)).status_code == 404
    assert carol.get(graph(live, by_id)).status_code == 200
    assert carol.get(f"{mars}/Secret/plan.txt").content == b"p"
    children = root_children(space)
    seen = {i["name"] for i in bob.get(graph(live, children)).json()["value"]}
    assert seen == {"open.txt"}
    assert bob.get(graph(live, "/v1beta1/me/drive/sharedWithMe")).json() == {
        "value": []
    }
    mine = folder(live, alice, "alice", "Home")
    assert invite(live, alice, mine, "bob", roles.DENIED).status_code == 400

    # Memberships are no item permissions: the drive's members API changes them.
    (membership,) = [g for g in spaces.members(space) if g.grantee_id == bob_id]
    as_item = f"/v1beta1/drives/{drive}/items/{drive}!{space.id}/permissions/"
    changed = alice.patch(
        graph(live, as_item + str(membership.id)), json={"roles": [roles.VIEWER.id]}
    )
    assert changed.status_code == 404
    assert spaces.member(space, str(membership.id)).role == roles.SPACE_EDITOR.id


def test_permission_listing_query_options(
    live: LiveServer, alice: requests.Session
) -> None:
    user(live, "bob")
    item = folder(live, alice, "alice", "Many")
    invite(live, alice, item, "bob", roles.VIEWER)
    for _ in range(2):
        alice.post(graph(live, item_url(item, "/createLink")), json={"type": "view"})
    url = graph(live, item_url(item, "/permissions"))

    paged = alice.get(url, params={"$top": "1", "$skip": "1", "$count": "true"})
    assert_conforms(paged)
    assert len(paged.json()["value"]) == 1
    assert paged.json()["@odata.count"] == 3
    roles_only = alice.get(
        url, params={"$select": "@libre.graph.permissions.roles.allowedValues"}
    )
    assert_conforms(roles_only)
    assert list(roles_only.json()) == ["@libre.graph.permissions.roles.allowedValues"]
    for params, code in (
        ({"$select": "nonsense"}, "invalidRequest"),
        ({"$filter": "id eq 'x'"}, "notSupported"),
    ):
        refused = alice.get(url, params=params)
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == code


def test_a_file_editor_and_an_upload_only_recipient(
    live: LiveServer, alice: requests.Session
) -> None:
    bob = user(live, "bob")
    assert alice.put(f"{live.dav()}/report.txt", data=b"v1").status_code == 201
    report = child(live, alice, "report.txt")
    drop = folder(live, alice, "alice", "Drop")

    assert invite(live, alice, report, "bob", roles.FILE_EDITOR).status_code == 200
    assert invite(live, alice, drop, "bob", roles.EDITOR_LITE).status_code == 200

    jail = f"{live.url}/dav/spaces/{JAIL}"
    assert bob.put(f"{jail}/report.txt", data=b"v2").status_code == 204
    assert (live.user_root("alice") / "report.txt").read_bytes() == b"v2"
    assert bob.delete(f"{jail}/report.txt").status_code == 403
    assert bob.put(f"{jail}/Drop/in.txt", data=b"i").status_code == 201
    assert bob.get(f"{jail}/Drop/a.txt").status_code in (403, 404)
    listing = bob.request("PROPFIND", f"{jail}/Drop", headers={"Depth": "1"})
    assert listing.status_code == 207
    assert "a.txt" not in listing.text and "in.txt" not in listing.text


def test_a_recipient_syncs_a_share_again_under_a_name_of_their_choice(
    live: LiveServer, alice: requests.Session
) -> None:
    bob = user(live, "bob")
    item = folder(live, alice, "alice", "Report")
    other = folder(live, alice, "alice", "Other")
    invite(live, alice, item, "bob", roles.VIEWER)
    invite(live, alice, other, "bob", roles.VIEWER)
    listed = bob.get(graph(live, "/v1beta1/me/drive/sharedWithMe")).json()["value"]
    shared = next(s for s in listed if s["name"] == "Report")
    unmount = graph(live, f"/v1beta1/drives/{JAIL}/items/{shared['id']}")
    assert bob.delete(unmount).status_code == 204
    root = graph(live, f"/v1beta1/drives/{JAIL}/root/children")

    taken = bob.post(root, json={"name": "Other", "remoteItem": {"id": item["id"]}})
    assert taken.status_code == 409
    assert_conforms(taken)
    mounted = bob.post(
        root, json={"name": "Alice's report", "remoteItem": {"id": item["id"]}}
    )

    assert mounted.status_code == 200, mounted.text
    assert_conforms(mounted)
    assert mounted.json()["name"] == "Alice's report"
    assert mounted.json()["@client.synchronize"] is True
    jail = f"{live.url}/dav/spaces/{JAIL}"
    assert bob.get(f"{jail}/Alice's report/a.txt").content == b"alpha"
    assert bob.get(f"{jail}/Report/a.txt").status_code == 404
    for body in (
        {"name": "x", "folder": {}, "remoteItem": {"id": item["id"]}},
        {"name": "x"},
        {"remoteItem": {"id": "no-such-item"}},
    ):
        refused = bob.post(root, json=body)
        assert refused.status_code in (400, 404), body
        assert_conforms(refused)


def test_capabilities_announce_what_sharing_offers(live: LiveServer) -> None:
    answer = requests.get(
        f"{live.url}/ocs/v2.php/cloud/capabilities", params={"format": "json"}
    )

    sharing = answer.json()["ocs"]["data"]["capabilities"]["files_sharing"]
    assert sharing["deny_access"] is True
    assert sharing["auto_accept_share"] is True
    assert sharing["public"]["supports_upload_only"] is True
    assert sharing["public"]["multiple"] is True
