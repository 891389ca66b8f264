"""The end of an account and a new login name, through the API: a deleted user's
sessions, tokens and shares end and their files wait in the trash (or go at
once with ``?purge=true``); a renamed user keeps id, space, folder and shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from app import db, groups, shares, spaces, users
from app.auth.principal import Principal
from app.models import Grant
from app.perms import Perm
from tests.conftest import PASSWORD, LiveServer
from tests.graph.contract import assert_conforms

PURGE_JOB = b"users.purge_deleted"


@dataclass
class World:
    live: LiveServer
    bob_id: str
    cookie: requests.Session
    token: requests.Session
    given: str  # bob's share with alice
    received: str  # alice's share with bob
    team_share: str  # alice's share with bob's group


def admin(live: LiveServer) -> requests.Session:
    return live.session("admin", "admin-password-1")


def principal(name: str) -> Principal:
    user = users.get(name)
    return Principal(user.id, user.name)


def share(live: LiveServer, owner: str, folder: str, kind: str, to: str) -> str:
    root = live.user_root(owner)
    (root / folder).mkdir()
    (root / folder / "note.txt").write_text(f"{owner}'s note")
    tree = live.app.grove.tree(spaces.personal_space(users.get(owner)))
    grant = shares.share(
        principal(owner),
        tree.item([folder]),
        Perm.owner(),
        grantee_type=kind,
        grantee_id=to,
        role="Editor",
    )
    return str(grant.id)


@pytest.fixture
def world(live: LiveServer) -> World:
    """bob, signed in three ways, sharing with alice and shared with."""
    live.add_user("bob")
    team = groups.create("team")
    groups.add_member(team, users.get("bob"))
    signed_in = requests.post(
        f"{live.url}/signin", json={"username": "bob", "password": PASSWORD}
    )
    assert signed_in.status_code == 204, signed_in.text
    cookie = requests.Session()
    cookie.cookies.update(signed_in.cookies)
    token = live.session().post(f"{live.url}/auth-app/tokens")  # alice's, kept
    assert token.status_code == 200
    bob_token = live.session("bob").post(f"{live.url}/auth-app/tokens").json()
    world = World(
        live,
        users.get("bob").id,
        cookie,
        live.session("bob", bob_token["token"]),
        share(live, "bob", "from-bob", "user", "alice"),
        share(live, "alice", "for-bob", "user", "bob"),
        share(live, "alice", "for-team", "group", team.id),
    )
    for session in (cookie, world.token, live.session("bob")):
        assert me_status(live, session) == 200
    return world


def me_status(live: LiveServer, session: requests.Session) -> int:
    """The status of GET /me (checked against the document) with ``session``."""
    answer = session.get(f"{live.url}/graph/v1.0/me", timeout=10)
    assert_conforms(answer)
    return answer.status_code


def me_json(live: LiveServer, session: requests.Session) -> dict:
    answer = session.get(f"{live.url}/graph/v1.0/me", timeout=10)
    assert_conforms(answer)
    return answer.json()  # type: ignore[no-any-return]


def grants() -> set[str]:
    return {str(grant.id) for grant in Grant.select()}


def scheduled_purges() -> int:
    """Purge jobs waiting in the durable queue (huey keeps a job with a later
    start in its task table until a worker moves it to the schedule)."""
    query = "SELECT data FROM job_task UNION ALL SELECT data FROM job_schedule"
    rows = db.database.execute_sql(query).fetchall()
    return sum(PURGE_JOB in bytes(row[0]) for row in rows)


def delete_bob(world: World, **params: str) -> requests.Response:
    answer = admin(world.live).delete(
        f"{world.live.url}/graph/v1.0/users/{world.bob_id}", params=params
    )
    assert answer.status_code == 204, answer.text
    assert_conforms(answer)
    return answer


def test_deleting_a_user_ends_their_access_and_shares(world: World) -> None:
    live = world.live

    delete_bob(world)

    for session in (world.cookie, world.token, live.session("bob")):
        assert me_status(live, session) == 401
    assert me_status(live, live.session("alice")) == 200
    assert grants() == {world.team_share}
    assert [mount.name for mount in shares.mounts(users.get("alice").id)] == []
    assert users.get("alice").name == "alice"
    assert groups.members(groups.get("team")) == []
    missing = admin(live).get(f"{live.url}/graph/v1.0/users/{world.bob_id}")
    assert missing.status_code == 404
    assert_conforms(missing)


def test_a_deleted_users_files_wait_in_the_trash(world: World) -> None:
    live = world.live
    state = live.settings.state_dir
    bob = live.session("bob")
    for content in (b"first", b"second"):  # the first becomes a version
        assert bob.put(f"{live.dav('bob')}/draft.txt", data=content).ok
    assert bob.delete(f"{live.dav('bob')}/draft.txt").ok  # into bob's trash
    space = spaces.personal_space(users.get("bob")).id

    delete_bob(world)

    assert not live.user_root("bob").exists()
    assert not (state / "versions" / space).exists()
    assert not (state / "trash" / space).exists()
    (kept,) = (state / "trash" / "users").glob("bob-*[0-9]")
    assert (kept / "from-bob" / "note.txt").read_text() == "bob's note"
    companions = [kept.with_name(kept.name + s) for s in (".trash", ".versions")]
    assert all(folder.is_dir() for folder in companions)
    assert scheduled_purges() == 1
    users.purge_deleted(live.app.grove, str(kept.relative_to(state)))
    assert not kept.exists()
    assert not any(folder.exists() for folder in companions)


def test_purge_removes_a_deleted_users_files_at_once(world: World) -> None:
    live = world.live
    refused = admin(live).delete(
        f"{live.url}/graph/v1.0/users/{world.bob_id}", params={"purge": "maybe"}
    )
    assert refused.status_code == 400
    assert users.get("bob")

    delete_bob(world, purge="true")

    assert not live.user_root("bob").exists()
    trash = live.settings.state_dir / "trash" / "users"
    assert not trash.exists() or list(trash.iterdir()) == []
    assert scheduled_purges() == 0


def test_an_admin_cannot_delete_themselves(live: LiveServer) -> None:
    me = users.get("admin")

    answer = admin(live).delete(f"{live.url}/graph/v1.0/users/{me.id}")

    assert answer.status_code == 400
    assert_conforms(answer)
    assert users.get("admin").id == me.id


def test_a_new_login_name_keeps_id_space_folder_and_shares(world: World) -> None:
    live = world.live
    drive_before = live.drive_id(live.session("bob"), "bob")
    folder = spaces.personal_space(users.get("bob")).folder

    answer = admin(live).patch(
        f"{live.url}/graph/v1.0/users/{world.bob_id}",
        json={"onPremisesSamAccountName": "robert", "displayName": "Robert"},
    )

    assert answer.status_code == 200, answer.text
    assert_conforms(answer)
    assert answer.json()["id"] == world.bob_id
    assert me_status(live, live.session("bob")) == 401
    robert = live.session("robert")
    assert me_json(live, robert)["id"] == world.bob_id
    assert live.drive_id(robert, "robert") == drive_before
    space = spaces.personal_space(users.get("robert"))
    assert (space.folder, space.name) == (folder, "robert")
    assert Path(live.settings.storage_dir / folder / "from-bob" / "note.txt").exists()
    assert grants() == {world.given, world.received, world.team_share}
    mine = robert.get(f"{live.url}/graph/v1.0/me/drives").json()["value"]
    assert [drive["driveAlias"] for drive in mine] == [
        "personal/robert",
        "virtual/shares",
    ]
    assert (
        robert.request("PROPFIND", live.dav("robert") + "/from-bob").status_code == 207
    )
    received = robert.get(f"{live.dav('robert')}/Shares/for-bob/note.txt")
    assert received.content == b"alice's note"
    given = live.session().get(f"{live.dav()}/Shares/from-bob/note.txt")
    assert given.content == b"bob's note"


def test_folder_names_are_fixed_sanitised_and_unique(live: LiveServer) -> None:
    session = admin(live)
    made = []
    for name, display in (("a\\b", "First"), ("a_b", "Second")):
        body = {
            "onPremisesSamAccountName": name,
            "displayName": display,
            "passwordProfile": {"password": "first password 1"},
        }
        answer = session.post(f"{live.url}/graph/v1.0/users", json=body)
        made.append(answer)
    folders = [spaces.personal_space(users.get(a.json()["id"])).folder for a in made]

    assert [a.status_code for a in made] == [201, 201], made[0].text
    assert folders == ["users/a_b", "users/a_b-2"]
    renamed = session.patch(
        f"{live.url}/graph/v1.0/users/{made[0].json()['id']}",
        json={"onPremisesSamAccountName": "zed"},
    )
    assert renamed.status_code == 200
    assert spaces.personal_space(users.get("zed")).folder == folders[0]
