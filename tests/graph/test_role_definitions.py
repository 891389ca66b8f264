"""``/v1beta1/roleManagement/permissions/roleDefinitions``: the unified roles with
OpenCloud's ids, checked against the official Libre Graph document."""

from __future__ import annotations

import requests

from tests.conftest import LiveServer
from tests.graph.contract import assert_conforms

PATH = "/graph/v1beta1/roleManagement/permissions/roleDefinitions"

# Ids and internal names as OpenCloud's clients store them
# (../shared/reference/opencloud-compat.md §2.3).
OPENCLOUD_ROLES = {
    "b1e2218d-eef8-4d4c-b82d-0f1a1b48f3b5": "Can view",
    "d5041006-ebb3-4b4a-b6a4-7c180ecfb17d": "Can view",
    "a8d5fe5e-96e3-418d-825b-534dbdf22b99": "Can view",
    "fb6c3e19-e378-47e5-b277-9732f9de6e21": "Can edit",
    "e8ea8b21-abd4-45d2-b893-8d1546378e9e": "Can edit",
    "58c63c02-1d89-4572-916a-870abc5a1b7d": "Can edit",
    "3284f2d5-0070-4ad8-ac40-c247f7c1fb27": "Can edit without versions",
    "2d00ce52-1fc2-4dbc-8b95-a73b73395f5a": "Can edit",
    "c1235aea-d106-42db-8458-7d5610fb0a67": "Can edit",
    "1c996275-f1c9-4e71-abdf-a42f6495e960": "Can upload",
    "312c0871-5ef7-4b3a-85b6-0e4074c64049": "Can manage",
    "aa97fe03-7980-45ac-9e50-b325749fd7e6": "Can view (secure)",
    "63e64e19-8d43-42ec-a738-2b6af2610efa": "Cannot access",
}


def test_every_unified_role_is_listed_with_its_id(
    live: LiveServer, alice: requests.Session
) -> None:
    answer = alice.get(f"{live.url}{PATH}", timeout=10)

    assert answer.status_code == 200
    assert_conforms(answer)
    found = {role["id"]: role["displayName"] for role in answer.json()}
    assert found == OPENCLOUD_ROLES
    weights = [role["@libre.graph.weight"] for role in answer.json()]
    assert weights == sorted(weights)


def test_a_role_definition_names_its_actions_and_where_it_applies(
    live: LiveServer, alice: requests.Session
) -> None:
    editor = "fb6c3e19-e378-47e5-b277-9732f9de6e21"

    answer = alice.get(f"{live.url}{PATH}/{editor}", timeout=10)

    assert answer.status_code == 200
    assert_conforms(answer)
    (permission,) = answer.json()["rolePermissions"]
    assert permission["condition"] == "exists @Resource.Folder"
    actions = permission["allowedResourceActions"]
    assert "libre.graph/driveItem/children/create" in actions
    assert "libre.graph/driveItem/permissions/create" not in actions


def test_an_unknown_role_is_a_404_and_the_list_needs_a_sign_in(
    live: LiveServer, alice: requests.Session
) -> None:
    missing = alice.get(f"{live.url}{PATH}/Editor", timeout=10)
    anonymous = requests.get(f"{live.url}{PATH}", timeout=10)

    assert missing.status_code == 404
    assert "Editor" in missing.json()["error"]["message"]
    assert anonymous.status_code == 401
    assert_conforms(missing)
    assert_conforms(anonymous)
