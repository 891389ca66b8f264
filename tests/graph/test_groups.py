"""``/v1.0/groups``: admins create, rename and delete groups and change their
members; everyone may search for groups to share with. Every answer is
checked against the official Libre Graph document."""

from __future__ import annotations

import pytest
import requests

from app import groups, shares, spaces, users
from app.auth.principal import Principal
from app.models import Grant
from app.perms import Perm
from tests.conftest import LiveServer
from tests.graph.contract import assert_conforms


def admin(live: LiveServer) -> requests.Session:
    return live.session("admin", "admin-password-1")


def url(live: LiveServer, path: str = "") -> str:
    return f"{live.url}/graph/v1.0/groups{path}"


def user_ref(live: LiveServer, name: str) -> str:
    return f"{live.url}/graph/v1.0/users/{users.get(name).id}"


def new_group(live: LiveServer, name: str, **extra: object) -> dict:
    answer = admin(live).post(url(live), json={"displayName": name, **extra})
    assert answer.status_code == 201, answer.text
    assert_conforms(answer)
    return answer.json()  # type: ignore[no-any-return]


def member_names(live: LiveServer, group_id: str) -> list[str]:
    answer = admin(live).get(url(live, f"/{group_id}/members"))
    assert answer.status_code == 200, answer.text
    assert_conforms(answer)
    return sorted(user["onPremisesSamAccountName"] for user in answer.json()["value"])


@pytest.fixture
def people(live: LiveServer) -> None:
    for name in ("bob", "carol"):
        live.add_user(name)


def test_admin_creates_a_group_with_members(live: LiveServer, people) -> None:
    made = new_group(
        live,
        "team",
        description="The team",
        **{"members@odata.bind": [user_ref(live, "bob"), user_ref(live, "alice")]},
    )

    assert (made["displayName"], made["description"]) == ("team", "The team")
    assert made["id"] == groups.get("team").id
    assert member_names(live, made["id"]) == ["alice", "bob"]


def test_members_are_added_and_removed_by_reference(live: LiveServer, people) -> None:
    team = new_group(live, "team")
    session = admin(live)
    carol = users.get("carol")

    added = session.post(
        url(live, f"/{team['id']}/members/$ref"),
        json={"@odata.id": user_ref(live, "carol")},
    )
    bound = session.patch(
        url(live, f"/{team['id']}"),
        json={"members@odata.bind": [user_ref(live, "bob"), user_ref(live, "carol")]},
    )
    assert member_names(live, team["id"]) == ["bob", "carol"]
    removed = session.delete(url(live, f"/{team['id']}/members/{carol.id}/$ref"))
    again = session.delete(url(live, f"/{team['id']}/members/{carol.id}/$ref"))

    for answer in (added, bound, removed, again):
        assert_conforms(answer)
    assert [added.status_code, bound.status_code, removed.status_code] == [204] * 3
    assert again.status_code == 404
    assert member_names(live, team["id"]) == ["bob"]


def test_a_group_is_renamed_listed_and_deleted(live: LiveServer, people) -> None:
    team = new_group(live, "team", description="first")
    new_group(live, "admins")
    session = admin(live)

    renamed = session.patch(
        url(live, f"/{team['id']}"), json={"displayName": "crew", "description": ""}
    )
    listed = session.get(url(live), params={"$orderby": "displayName desc"})
    selected = session.get(url(live), params={"$select": "displayName", "$top": "1"})
    searched = session.get(url(live), params={"$search": "cre", "$expand": "members"})
    deleted = session.delete(url(live, f"/{team['id']}"))
    gone = session.get(url(live, f"/{team['id']}"))

    for answer in (renamed, listed, selected, searched, deleted, gone):
        assert_conforms(answer)
    assert renamed.status_code == 204
    assert [g["displayName"] for g in listed.json()["value"]] == ["crew", "admins"]
    assert selected.json()["value"] == [
        {"id": groups.get("admins").id, "displayName": "admins"}
    ]
    assert searched.json()["value"][0]["members"] == []
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert [g.name for g in groups.listing()] == ["admins"]


def test_group_names_are_unique(live: LiveServer) -> None:
    new_group(live, "team")

    answer = admin(live).post(url(live), json={"displayName": "Team"})

    assert answer.status_code == 409
    assert_conforms(answer)
    assert [g.name for g in groups.listing()] == ["team"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"displayName": "x", "colour": "red"}, "invalidRequest"),
        ({"description": "no name"}, "invalidRequest"),
        ({"displayName": "x", "groupTypes": ["ReadOnly"]}, "notSupported"),
        ({"displayName": "x", "members": []}, "notSupported"),
        ({"displayName": "x", "members@odata.bind": []}, "invalidRequest"),
        ({"displayName": "x", "members@odata.bind": ["nobody"]}, "itemNotFound"),
    ],
)
def test_a_group_body_grove_cannot_honour_is_refused(
    live: LiveServer, body: dict, code: str
) -> None:
    answer = admin(live).post(url(live), json=body)

    assert answer.status_code in (400, 404)
    assert answer.json()["error"]["code"] == code
    assert_conforms(answer)
    assert groups.listing() == []


def test_others_may_search_groups_but_not_change_them(
    live: LiveServer, alice: requests.Session, people
) -> None:
    team = new_group(live, "team", **{"members@odata.bind": [user_ref(live, "bob")]})

    found = alice.get(url(live), params={"$search": "tea", "$expand": "members"})
    one = alice.get(url(live, f"/{team['id']}"), params={"$select": "members"})
    refused = [
        alice.get(url(live)),
        alice.post(url(live), json={"displayName": "mine"}),
        alice.patch(url(live, f"/{team['id']}"), json={"displayName": "mine"}),
        alice.delete(url(live, f"/{team['id']}")),
        alice.get(url(live, f"/{team['id']}/members")),
        alice.post(
            url(live, f"/{team['id']}/members/$ref"),
            json={"@odata.id": user_ref(live, "alice")},
        ),
    ]

    assert found.status_code == 200
    assert found.json()["value"] == [
        {"id": team["id"], "displayName": "team", "description": ""}
    ]
    assert "members" not in one.json()
    for answer in (found, one, *refused):
        assert_conforms(answer)
    assert [answer.status_code for answer in refused] == [403] * len(refused)
    assert [g.name for g in groups.listing()] == ["team"]
    assert member_names(live, team["id"]) == ["bob"]


def test_members_gain_and_lose_a_group_share_with_the_group(
    live: LiveServer, people
) -> None:
    team = new_group(live, "team", **{"members@odata.bind": [user_ref(live, "bob")]})
    (live.user_root("alice") / "Plans").mkdir()
    (live.user_root("alice") / "Plans" / "a.txt").write_text("plan a")
    alice = users.get("alice")
    tree = live.app.grove.tree(spaces.personal_space(alice))
    shares.share(
        Principal(alice.id, alice.name),
        tree.item(["Plans"]),
        Perm.owner(),
        grantee_type="group",
        grantee_id=team["id"],
        role="Viewer",
    )
    session = admin(live)

    def reads(name: str) -> int:
        answer = live.session(name).get(f"{live.dav(name)}/Shares/Plans/a.txt")
        return answer.status_code

    before = (reads("bob"), reads("carol"))
    session.post(
        url(live, f"/{team['id']}/members/$ref"),
        json={"@odata.id": user_ref(live, "carol")},
    )
    joined = reads("carol")
    session.delete(url(live, f"/{team['id']}/members/{users.get('bob').id}/$ref"))
    left = reads("bob")
    session.delete(url(live, f"/{team['id']}"))

    assert before == (200, 404)
    assert joined == 200
    assert left == 404
    assert reads("carol") == 404
    assert Grant.select().where(Grant.grantee_type == "group").count() == 0
