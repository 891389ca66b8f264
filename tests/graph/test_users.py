"""``/v1.0/users``: admins create, change and delete accounts; everyone may
search for people to share with. Every answer is checked against the official
Libre Graph document."""

from __future__ import annotations

import pytest
import requests

from app import groups, users
from tests.conftest import LiveServer
from tests.graph.contract import assert_conforms

# OpenCloud's ids of the global roles Admin and User.
ADMIN_ROLE = "71881883-1768-46bd-a24d-a356a2afdf7f"
USER_ROLE = "d7beeea8-8ff4-406b-8fb6-ab2dd81e6b11"


def me_status(live: LiveServer, session: requests.Session) -> int:
    """The status of GET /me (checked against the document) with ``session``."""
    answer = session.get(f"{live.url}/graph/v1.0/me", timeout=10)
    assert_conforms(answer)
    return answer.status_code


def me_json(live: LiveServer, session: requests.Session) -> dict:
    answer = session.get(f"{live.url}/graph/v1.0/me", timeout=10)
    assert_conforms(answer)
    return answer.json()  # type: ignore[no-any-return]


def admin(live: LiveServer) -> requests.Session:
    return live.session("admin", "admin-password-1")


def url(live: LiveServer, path: str = "") -> str:
    return f"{live.url}/graph/v1.0/users{path}"


def new_user(live: LiveServer, name: str, **extra: object) -> dict:
    body = {
        "onPremisesSamAccountName": name,
        "displayName": name.title(),
        "passwordProfile": {"password": "first password 1"},
        **extra,
    }
    answer = admin(live).post(url(live), json=body, timeout=10)
    assert answer.status_code == 201, answer.text
    assert_conforms(answer)
    return answer.json()  # type: ignore[no-any-return]


def listed(live: LiveServer, session: requests.Session, **params: str) -> list[dict]:
    answer = session.get(url(live), params=params, timeout=10)
    assert answer.status_code == 200, answer.text
    assert_conforms(answer)
    return answer.json()["value"]  # type: ignore[no-any-return]


def names(found: list[dict]) -> list[str]:
    return [user["onPremisesSamAccountName"] for user in found]


def test_admin_creates_a_user_who_can_sign_in_at_once(live: LiveServer) -> None:
    made = new_user(live, "bob", mail="bob@example.org", preferredLanguage="fr")

    assert made["onPremisesSamAccountName"] == "bob"
    assert made["displayName"] == "Bob"
    assert made["mail"] == "bob@example.org"
    assert made["preferredLanguage"] == "fr"
    assert made["id"] == users.get("bob").id
    bob = live.session("bob", "first password 1")
    assert me_json(live, bob)["id"] == made["id"]
    assert bob.request("PROPFIND", live.dav("bob") + "/").status_code == 207


@pytest.mark.parametrize(
    ("body", "code", "named"),
    [
        ({"displayName": "No Login"}, "invalidRequest", "onPremisesSamAccountName"),
        ({"onPremisesSamAccountName": "x", "shoeSize": 44}, "invalidRequest", "shoe"),
        ({"onPremisesSamAccountName": "../evil"}, "invalidRequest", "../evil"),
        ({"onPremisesSamAccountName": " bob"}, "invalidRequest", "' bob'"),
        ({"onPremisesSamAccountName": "a\x00b"}, "invalidRequest", "a\\x00b"),
        ({"passwordProfile": {"password": "short"}}, "invalidRequest", "shorter"),
        ({"mail": "not-a-mail"}, "invalidRequest", "not-a-mail"),
        ({"accountEnabled": "maybe"}, "invalidRequest", "accountEnabled"),
        ({"preferredLanguage": "klingon-" * 3}, "invalidRequest", "language"),
        ({"onPremisesSamAccountName": "x", "surname": "X"}, "notSupported", "surname"),
        ({"onPremisesSamAccountName": "x", "identities": []}, "notSupported", "ident"),
        ({"onPremisesSamAccountName": "x", "id": "1"}, "notSupported", "'id'"),
        (
            {"passwordProfile": {"password": "p" * 9, "forceChange": True}},
            "invalidRequest",
            "forceChange",
        ),
        (
            {
                "passwordProfile": {
                    "password": "p" * 9,
                    "forceChangePasswordNextSignIn": True,
                }
            },
            "notSupported",
            "forceChangePasswordNextSignIn",
        ),
    ],
)
def test_a_create_with_fields_grove_does_not_take_is_refused(
    live: LiveServer, body: dict, code: str, named: str
) -> None:
    full = {
        "onPremisesSamAccountName": "carol",
        "displayName": "Carol",
        "passwordProfile": {"password": "first password 1"},
        **body,
    }
    if "displayName" in body:
        del full["onPremisesSamAccountName"]

    answer = admin(live).post(url(live), json=full, timeout=10)

    assert answer.status_code == 400
    assert_conforms(answer)
    assert answer.json()["error"]["code"] == code
    assert named in answer.json()["error"]["message"]
    assert [u.name for u in users.listing()] == ["admin", "alice"]


def test_user_names_are_unique_ignoring_case(live: LiveServer) -> None:
    body = {
        "onPremisesSamAccountName": "ALICE",
        "displayName": "Other Alice",
        "passwordProfile": {"password": "first password 1"},
    }

    answer = admin(live).post(url(live), json=body, timeout=10)

    assert answer.status_code == 409
    assert_conforms(answer)
    assert "ALICE" in answer.json()["error"]["message"]


def test_only_admins_manage_users(live: LiveServer, alice: requests.Session) -> None:
    bob = new_user(live, "bob")
    body = {
        "onPremisesSamAccountName": "mallory",
        "displayName": "Mallory",
        "passwordProfile": {"password": "first password 1"},
    }

    answers = [
        alice.post(url(live), json=body),
        alice.patch(url(live, f"/{bob['id']}"), json={"displayName": "Bobby"}),
        alice.delete(url(live, f"/{bob['id']}")),
        alice.get(url(live)),
    ]

    for answer in answers:
        assert answer.status_code == 403, answer.text
        assert_conforms(answer)
    assert users.get("bob").display_name == "Bob"


def test_others_find_people_by_search_without_their_groups(
    live: LiveServer, alice: requests.Session
) -> None:
    new_user(live, "bob", mail="bob@example.org")
    new_user(live, "bobby")
    team = groups.create("team")
    groups.add_member(team, users.get("bob"))

    found = listed(live, alice, **{"$search": '"bob"', "$select": "memberOf,mail"})
    admin_found = listed(live, admin(live), **{"$search": "bob", "$expand": "memberOf"})

    assert names(found) == ["bob", "bobby"]
    assert all("memberOf" not in user for user in found)
    assert found[0]["mail"] == "bob@example.org"
    assert admin_found[0]["memberOf"][0]["displayName"] == "team"


def test_filter_select_order_and_paging(live: LiveServer) -> None:
    for name in ("bob", "carol", "dave"):
        new_user(live, name, mail=f"{name}@example.org")
    team = groups.create("team")
    for name in ("carol", "alice"):
        groups.add_member(team, users.get(name))
    session = admin(live)

    by_name = listed(live, session, **{"$filter": "displayName eq 'Carol'"})
    by_start = listed(live, session, **{"$filter": "startswith(mail,'da')"})
    in_team = listed(live, session, **{"$filter": f"memberOf/any(x:x/id eq {team.id})"})
    combined = listed(
        live,
        session,
        **{"$filter": f"memberOf/any(x:x/id eq '{team.id}') and not (mail eq '')"},
    )
    selected = listed(live, session, **{"$select": "mail", "$orderby": "mail desc"})
    paged = listed(
        live,
        session,
        **{"$orderby": "onPremisesSamAccountName", "$top": "2", "$skip": "1"},
    )

    assert names(by_name) == ["carol"]
    assert names(by_start) == ["dave"]
    assert sorted(names(in_team)) == ["alice", "carol"]
    assert names(combined) == ["carol"]
    assert [u["mail"] for u in selected][:3] == [
        "dave@example.org",
        "carol@example.org",
        "bob@example.org",
    ]
    assert set(selected[0]) == {"id", "displayName", "onPremisesSamAccountName", "mail"}
    assert names(paged) == ["alice", "bob"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"$filter": "displayName gt 'a'"}, "invalidRequest"),
        ({"$filter": "shoeSize eq 1"}, "invalidRequest"),
        ({"$filter": "displayName eq"}, "invalidRequest"),
        ({"$filter": "userType eq 'Member'"}, "notSupported"),
        ({"$select": "shoeSize"}, "invalidRequest"),
        ({"$select": "surname"}, "notSupported"),
        ({"$expand": "drives"}, "notSupported"),
        ({"$orderby": "id"}, "invalidRequest"),
        ({"$orderby": "displayName sideways"}, "invalidRequest"),
        ({"$top": "-1"}, "invalidRequest"),
        ({"$skip": "many"}, "invalidRequest"),
    ],
)
def test_query_options_grove_cannot_honour_are_refused(
    live: LiveServer, params: dict, code: str
) -> None:
    answer = admin(live).get(url(live), params=params, timeout=10)

    assert answer.status_code == 400, answer.text
    assert_conforms(answer)
    assert answer.json()["error"]["code"] == code


def test_a_user_is_read_by_id_or_login_name(
    live: LiveServer, alice: requests.Session
) -> None:
    bob = new_user(live, "bob")

    by_id = alice.get(url(live, f"/{bob['id']}"), params={"$expand": "memberOf"})
    by_name = admin(live).get(url(live, "/bob"), params={"$select": "memberOf"})
    missing = admin(live).get(url(live, "/nobody"))

    for answer in (by_id, by_name, missing):
        assert_conforms(answer)
    assert by_id.json()["onPremisesSamAccountName"] == "bob"
    assert "memberOf" not in by_id.json()
    assert by_name.json()["memberOf"] == []
    assert missing.status_code == 404
    assert "nobody" in missing.json()["error"]["message"]


def test_admin_changes_a_user(live: LiveServer) -> None:
    bob = new_user(live, "bob")
    session = admin(live)

    changed = session.patch(
        url(live, f"/{bob['id']}"),
        json={
            "displayName": "Robert",
            "mail": "rob@example.org",
            "passwordProfile": {"password": "second password 2"},
        },
    )
    bad_mail = session.patch(url(live, f"/{bob['id']}"), json={"mail": "nope"})
    read_only = session.patch(url(live, f"/{bob['id']}"), json={"memberOf": []})

    assert changed.status_code == 200, changed.text
    assert_conforms(changed)
    assert (changed.json()["displayName"], changed.json()["mail"]) == (
        "Robert",
        "rob@example.org",
    )
    assert me_status(live, live.session("bob", "first password 1")) == 401
    assert me_status(live, live.session("bob", "second password 2")) == 200
    assert bad_mail.status_code == 400
    assert_conforms(bad_mail)
    assert_conforms(read_only)
    assert "nope" in bad_mail.json()["error"]["message"]
    assert read_only.json()["error"]["code"] == "notSupported"
    assert users.get("bob").mail == "rob@example.org"


def test_a_disabled_user_cannot_sign_in(live: LiveServer, alice) -> None:
    alice_id = users.get("alice").id
    assert me_status(live, alice) == 200
    token = alice.post(f"{live.url}/auth-app/tokens").json()["token"]
    with_token = live.session("alice", token)
    assert me_status(live, with_token) == 200

    answer = admin(live).patch(
        url(live, f"/{alice_id}"), json={"accountEnabled": False}
    )
    own = admin(live).patch(
        url(live, f"/{users.get('admin').id}"), json={"accountEnabled": False}
    )

    assert answer.status_code == 200
    assert_conforms(answer)
    assert_conforms(own)
    assert answer.json()["accountEnabled"] is False
    assert me_status(live, alice) == 401
    assert me_status(live, with_token) == 401
    assert live.session().request("PROPFIND", live.dav()).status_code == 401
    assert own.status_code == 400
    assert users.get("admin").account_enabled is True


def test_an_admin_cannot_disable_themselves_through_me(live: LiveServer) -> None:
    answer = admin(live).patch(
        f"{live.url}/graph/v1.0/me", json={"accountEnabled": False}
    )

    assert answer.status_code == 400
    assert_conforms(answer)
    assert users.get("admin").account_enabled is True


def test_global_roles_are_expanded_and_filtered_for_admins(
    live: LiveServer, alice: requests.Session
) -> None:
    session = admin(live)
    by_role = {"$filter": f"appRoleAssignments/any(x:x/appRoleId eq {ADMIN_ROLE})"}

    admins = listed(live, session, **by_role)
    expanded = listed(
        live, session, **{"$expand": "appRoleAssignments", "$select": "mail"}
    )
    own = alice.get(f"{live.url}/graph/v1.0/me?$expand=appRoleAssignments")
    refused = alice.get(url(live), params={"$search": "a", **by_role})
    by_group = alice.get(
        url(live), params={"$search": "a", "$filter": "memberOf/any(x:x/id eq 1)"}
    )
    hidden = listed(live, alice, **{"$search": "a", "$expand": "appRoleAssignments"})

    assert names(admins) == ["admin"]
    roles = {u["onPremisesSamAccountName"]: u["appRoleAssignments"] for u in expanded}
    assert roles["admin"][0]["appRoleId"] == ADMIN_ROLE
    assert roles["alice"][0]["appRoleId"] == USER_ROLE
    assert roles["alice"][0]["principalId"] == users.get("alice").id
    assert_conforms(own)
    assert own.json()["appRoleAssignments"][0]["appRoleId"] == USER_ROLE
    for answer in (refused, by_group):
        assert answer.status_code == 403
        assert_conforms(answer)
    assert all("appRoleAssignments" not in user for user in hidden)


def test_admins_see_a_users_personal_drive(
    live: LiveServer, alice: requests.Session
) -> None:
    bob = new_user(live, "bob")
    bob_drive = live.drive_id(live.session("bob", "first password 1"), "bob")

    one = admin(live).get(url(live, f"/{bob['id']}"), params={"$expand": "drive"})
    every = listed(live, admin(live), **{"$expand": "drive,memberOf"})
    other = alice.get(url(live, f"/{bob['id']}"), params={"$expand": "drive"})

    assert_conforms(one)
    assert one.json()["drive"]["id"] == bob_drive
    assert one.json()["drive"]["driveAlias"] == "personal/bob"
    drives = {u["onPremisesSamAccountName"]: u["drive"]["id"] for u in every}
    assert drives["bob"] == bob_drive
    assert drives["alice"] == live.drive_id(alice)
    assert_conforms(other)
    assert "drive" not in other.json()


def test_a_refused_change_changes_nothing(live: LiveServer) -> None:
    bob = new_user(live, "bob", mail="bob@example.org")
    session = admin(live)

    bad_mail = session.patch(
        url(live, f"/{bob['id']}"),
        json={"passwordProfile": {"password": "second password 2"}, "mail": "x"},
    )
    short = session.patch(
        url(live, f"/{bob['id']}"),
        json={"displayName": "Robert", "passwordProfile": {"password": "short"}},
    )

    for answer in (bad_mail, short):
        assert answer.status_code == 400
        assert_conforms(answer)
    assert me_status(live, live.session("bob", "first password 1")) == 200
    assert (users.get("bob").mail, users.get("bob").display_name) == (
        "bob@example.org",
        "Bob",
    )
