"""Global roles over the API: the application and its app roles, and giving
an account the Admin, Space Admin or User role; every answer checked against
the official Libre Graph document."""

from __future__ import annotations

import requests

from app import account_roles, users
from app.models import AuditEvent
from tests.conftest import LiveServer
from tests.graph.contract import assert_conforms


def graph(live: LiveServer, path: str) -> str:
    return f"{live.url}/graph{path}"


def checked(answer: requests.Response, status: int) -> dict:
    assert answer.status_code == status, answer.text
    assert_conforms(answer)
    return answer.json() if answer.content else {}


def give(live, session, user: str, role: account_roles.AppRole) -> requests.Response:
    app_id = session.get(graph(live, "/v1.0/applications")).json()["value"][0]["id"]
    body = {
        "appRoleId": role.id,
        "principalId": users.get(user).id,
        "resourceId": app_id,
    }
    url = graph(live, f"/v1.0/users/{users.get(user).id}/appRoleAssignments")
    return session.post(url, json=body, timeout=10)


def test_the_application_lists_opencloud_role_ids(live: LiveServer, alice) -> None:
    found = checked(alice.get(graph(live, "/v1.0/applications")), 200)
    (app,) = found["value"]
    assert {r["displayName"]: r["id"] for r in app["appRoles"]} == {
        "Admin": "71881883-1768-46bd-a24d-a356a2afdf7f",
        "Space Admin": "2aadd357-682c-406b-8874-293091995fdd",
        "User": "d7beeea8-8ff4-406b-8fb6-ab2dd81e6b11",
    }
    one = checked(alice.get(graph(live, f"/v1.0/applications/{app['id']}")), 200)
    assert one == app
    missing = alice.get(graph(live, "/v1.0/applications/nope"))
    assert missing.status_code == 404


def test_an_admin_makes_a_space_admin_who_creates_drives(
    live: LiveServer, alice
) -> None:
    boss = live.session("admin", "admin-password-1")
    alice_id = users.get("alice").id
    own = graph(live, f"/v1.0/users/{alice_id}/appRoleAssignments")
    (held,) = checked(alice.get(own), 200)["value"]
    assert held["appRoleId"] == account_roles.USER.id

    refused = give(live, alice, "alice", account_roles.SPACE_ADMIN)
    assert refused.status_code == 403
    assert_conforms(refused)
    made = checked(give(live, boss, "alice", account_roles.SPACE_ADMIN), 200)
    assert (made["appRoleId"], made["principalId"]) == (
        account_roles.SPACE_ADMIN.id,
        alice_id,
    )
    drive = alice.post(graph(live, "/v1.0/drives"), json={"name": "Deimos"})
    assert drive.status_code == 201, drive.text
    event = AuditEvent.get(AuditEvent.detail == "role: space-admin")
    assert (event.action, event.actor, event.target) == (
        "user_feature_changed",
        "admin",
        "alice",
    )

    (held,) = checked(alice.get(own), 200)["value"]
    removed = boss.delete(f"{own}/{held['id']}")
    assert removed.status_code == 204
    again = alice.post(graph(live, "/v1.0/drives"), json={"name": "Phobos"})
    assert again.status_code == 403
    (held,) = checked(boss.get(own), 200)["value"]
    assert held["appRoleId"] == account_roles.USER.id
    assert boss.delete(f"{own}/{held['id']}").status_code == 400


def test_roles_are_checked_and_the_last_admin_stays(live: LiveServer, alice) -> None:
    boss = live.session("admin", "admin-password-1")
    unknown = give(live, boss, "alice", account_roles.USER)
    assert unknown.status_code == 200  # already a User: nothing changes
    body = {
        "appRoleId": "00000000-0000-4000-8000-000000000000",
        "principalId": users.get("alice").id,
        "resourceId": boss.get(graph(live, "/v1.0/applications")).json()["value"][0][
            "id"
        ],
    }
    url = graph(live, f"/v1.0/users/{users.get('alice').id}/appRoleAssignments")
    bad = boss.post(url, json=body)
    assert bad.status_code == 400
    assert_conforms(bad)
    assert "no app role" in bad.json()["error"]["message"]
    wrong_user = boss.post(url, json={**body, "principalId": users.get("admin").id})
    assert wrong_user.status_code == 400

    last = give(live, boss, "admin", account_roles.USER)
    assert last.status_code == 403
    assert "last admin" in last.json()["error"]["message"]
    checked(give(live, boss, "alice", account_roles.ADMIN), 200)
    assert users.get("alice").is_admin
    checked(give(live, boss, "admin", account_roles.USER), 200)
    assert not users.get("admin").is_admin
    others = alice.get(
        graph(live, f"/v1.0/users/{users.get('admin').id}/appRoleAssignments")
    )
    checked(others, 200)
    hidden = boss.get(
        graph(live, f"/v1.0/users/{users.get('alice').id}/appRoleAssignments")
    )
    assert hidden.status_code == 404  # no admin any more: others' roles are hidden
