"""``/v1.0/me``: the signed-in user, their groups, their language and password;
every answer checked against the official Libre Graph document."""

from __future__ import annotations

import requests

from app import groups, users
from tests.conftest import PASSWORD, LiveServer
from tests.graph.contract import assert_conforms


def me_status(live: LiveServer, session: requests.Session) -> int:
    """The status of GET /me (checked against the document) with ``session``."""
    answer = session.get(f"{live.url}/graph/v1.0/me", timeout=10)
    assert_conforms(answer)
    return answer.status_code


def me(live: LiveServer, session: requests.Session, **params: str) -> dict:
    answer = session.get(f"{live.url}/graph/v1.0/me", params=params, timeout=10)
    assert answer.status_code == 200, answer.text
    assert_conforms(answer)
    return answer.json()  # type: ignore[no-any-return]


def test_me_is_the_signed_in_user(live: LiveServer, alice: requests.Session) -> None:
    found = me(live, alice)

    assert found["id"] == users.get("alice").id
    assert found["onPremisesSamAccountName"] == "alice"
    assert found["displayName"] == "alice"
    assert found["accountEnabled"] is True
    assert "memberOf" not in found


def test_me_expands_the_groups_i_am_in(
    live: LiveServer, alice: requests.Session
) -> None:
    team = groups.create("team", description="The team")
    groups.create("others")
    groups.add_member(team, users.get("alice"))

    found = me(live, alice, **{"$expand": "memberOf"})

    assert found["memberOf"] == [
        {"id": team.id, "displayName": "team", "description": "The team"}
    ]


def test_me_refuses_an_expansion_it_does_not_know(
    live: LiveServer, alice: requests.Session
) -> None:
    unknown = alice.get(f"{live.url}/graph/v1.0/me", params={"$expand": "friends"})
    unsupported = alice.get(
        f"{live.url}/graph/v1.0/me", params={"$expand": "memberOf,drives"}
    )

    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "invalidRequest"
    assert "friends" in unknown.json()["error"]["message"]
    assert unsupported.status_code == 400
    assert unsupported.json()["error"]["code"] == "notSupported"
    assert_conforms(unknown)
    assert_conforms(unsupported)


def test_a_user_sets_their_language_but_not_their_name(
    live: LiveServer, alice: requests.Session
) -> None:
    url = f"{live.url}/graph/v1.0/me"

    changed = alice.patch(url, json={"preferredLanguage": "de"}, timeout=10)
    refused = alice.patch(url, json={"displayName": "Queen Alice"}, timeout=10)

    assert changed.status_code == 200, changed.text
    assert_conforms(changed)
    assert changed.json()["preferredLanguage"] == "de"
    assert refused.status_code == 403
    assert_conforms(refused)
    assert "displayName" in refused.json()["error"]["message"]
    assert me(live, alice)["displayName"] == "alice"
    assert users.get("alice").preferred_language == "de"


def test_change_password_needs_the_current_one_and_ends_the_old(
    live: LiveServer, alice: requests.Session
) -> None:
    url = f"{live.url}/graph/v1.0/me/changePassword"
    new = "a brand new passphrase"

    wrong = alice.post(
        url, json={"currentPassword": "not it at all", "newPassword": new}
    )
    short = alice.post(url, json={"currentPassword": PASSWORD, "newPassword": "x"})
    missing = alice.post(url, json={"newPassword": new})
    changed = alice.post(url, json={"currentPassword": PASSWORD, "newPassword": new})

    assert wrong.status_code == 400
    assert "current password" in wrong.json()["error"]["message"]
    assert short.status_code == 400
    assert missing.status_code == 400
    assert "currentPassword" in missing.json()["error"]["message"]
    assert changed.status_code == 204, changed.text
    for answer in (wrong, short, missing, changed):
        assert_conforms(answer)
    assert me_status(live, alice) == 401
    assert me(live, live.session("alice", new))["onPremisesSamAccountName"] == "alice"


def test_read_only_token_cannot_change_the_password(live: LiveServer) -> None:
    made = live.session().post(
        f"{live.url}/auth-app/tokens", params={"scope": "read-only"}
    )
    assert made.status_code == 200, made.text
    reader = live.session("alice", made.json()["token"])

    answer = reader.post(
        f"{live.url}/graph/v1.0/me/changePassword",
        json={"currentPassword": PASSWORD, "newPassword": "another passphrase"},
    )

    assert me(live, reader)["onPremisesSamAccountName"] == "alice"
    assert answer.status_code == 403
    assert_conforms(answer)


def test_me_expands_my_personal_drive(
    live: LiveServer, alice: requests.Session
) -> None:
    found = me(live, alice, **{"$expand": "drive"})

    assert found["drive"]["id"] == live.drive_id(alice)
    assert found["drive"]["driveType"] == "personal"
    assert found["drive"]["quota"]["state"] == "normal"
