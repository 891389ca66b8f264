"""The API keeps to its own document: schemathesis generates requests from
/graph/openapi.json for every operation and sends them to a running Grove as
an admin; no answer may be a 5xx, and none may contradict the document
(status code, content type, body).

Each operation runs twice: with generated path parameters (mostly unknown
ids: the 404s) and, where it names them, with the ids of real objects (a
user, a group, a drive, a shared folder, a role). Bounded and derandomised:
a few examples per operation, so the suite stays fast and repeatable.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app import groups, roles, users
from tests.conftest import LiveServer

EXAMPLES = 3
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _exercise(
    operation: schemathesis.APIOperation,
    session: requests.Session,
    base_url: str,
    known: dict[str, str],
) -> None:
    @given(case=operation.as_strategy(path_parameters=known or None))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case) -> None:
        answer = case.call_and_validate(
            base_url=base_url, session=session, checks=CHECKS
        )
        # The caller stays signed in: a 401 or 429 would hide what was tested.
        assert answer.status_code not in (401, 429), answer.text

    run()


def operations(live: LiveServer) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(f"{live.url}/graph/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def real_objects(live: LiveServer, session: requests.Session) -> dict[str, str]:
    """Path parameters naming objects that exist: bob, his group, the admin's
    drive, a folder in it shared with bob, that share, a role."""
    graph = f"{live.url}/graph"
    live.add_user("bob")
    team = groups.create("team")
    groups.add_member(team, users.get("bob"))
    (live.settings.storage_dir / "users" / "admin" / "Docs").mkdir()
    drive = session.get(f"{graph}/v1.0/me/drive").json()["id"]
    children = session.get(f"{graph}/v1.0/me/drive/root/children").json()["value"]
    (folder,) = [item["id"] for item in children if item["name"] == "Docs"]
    bob = users.get("bob").id
    invite = {"recipients": [{"objectId": bob}], "roles": [roles.EDITOR.id]}
    shared = session.post(
        f"{graph}/v1beta1/drives/{drive}/items/{folder}/invite", json=invite
    )
    assert shared.status_code == 200, shared.text
    return {
        "user_id": bob,
        "group_id": team.id,
        "drive_id": drive,
        "item_id": folder,
        "perm_id": shared.json()["value"][0]["id"],
        "role_id": roles.EDITOR.id,
    }


def _known(operation: Any, objects: dict[str, str]) -> dict[str, str]:
    names = re.findall(r"\{(\w+)\}", operation.path)
    return {name: objects[name] for name in names if name in objects}


@pytest.mark.slow
def test_every_operation_keeps_to_the_document(live: LiveServer) -> None:
    # A Bearer token: the fuzzer may change the admin's name and password
    # without locking itself out.
    made = live.session("admin", "admin-password-1").post(f"{live.url}/auth-app/tokens")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {made.json()['token']}"
    objects = real_objects(live, session)
    found = operations(live)
    failures: dict[str, str] = {}

    for operation in found:
        for known in ({}, _known(operation, objects)):
            try:
                _exercise(operation, session, live.url, known)
            except AssertionError as failure:
                failures[f"{operation.label} {known}"] = str(failure)[:1500]

    assert len(found) > 30
    assert failures == {}
