"""Hostile and careless input to the API: every refusal is a 4xx with
``{"error": {code, message}}``, never a 500, and nothing changes."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import LiveServer

# json.loads recurses once per level: far past Python's recursion limit.
DEEP_JSON = '{"a":' * 5000 + "1" + "}" * 5000


def graph(live: LiveServer, path: str) -> str:
    return f"{live.url}/graph{path}"


def refused(answer: requests.Response, status: int = 400) -> str:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] and error["message"]
    return str(error["message"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1.0/me/changePassword"),
        ("PATCH", "/v1.0/me"),
        ("POST", "/v1.0/drives"),
    ],
)
def test_deeply_nested_json_is_a_bad_request(
    live: LiveServer, alice: requests.Session, method: str, path: str
) -> None:
    answer = alice.request(
        method,
        graph(live, path),
        data=DEEP_JSON,
        headers={"Content-Type": "application/json"},
    )
    assert "nested too deeply" in refused(answer)


def test_deeply_nested_json_at_signin_is_a_bad_request(live: LiveServer) -> None:
    answer = requests.post(
        f"{live.url}/signin",
        data=DEEP_JSON,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text


@pytest.mark.parametrize("path", ["/v1.0/drives", "/v1.0/me/drives"])
def test_a_filter_nested_too_deeply_is_a_bad_request(
    live: LiveServer, alice: requests.Session, path: str
) -> None:
    nested = "(" * 500 + "driveType eq 'project'" + ")" * 500
    answer = alice.get(graph(live, path), params={"$filter": nested})
    assert "deeper than" in refused(answer)
    negated = "not " * 200 + "driveType eq 'project'"
    answer = alice.get(graph(live, path), params={"$filter": negated})
    assert "deeper than" in refused(answer)


def test_a_filter_nested_a_little_still_works(
    live: LiveServer, alice: requests.Session
) -> None:
    nested = "(" * 5 + "driveType eq 'personal'" + ")" * 5
    answer = alice.get(graph(live, "/v1.0/me/drives"), params={"$filter": nested})
    assert answer.status_code == 200, answer.text
    assert [d["driveType"] for d in answer.json()["value"]] == ["personal"]


def test_a_quota_past_what_the_database_holds_is_refused(live: LiveServer) -> None:
    admin = live.session("admin", "admin-password-1")
    huge = {"name": "Huge", "quota": {"total": 10**300}}
    assert "quota" in refused(admin.post(graph(live, "/v1.0/drives"), json=huge))
    names = [d["name"] for d in admin.get(graph(live, "/v1.0/drives")).json()["value"]]
    assert "Huge" not in names

    made = admin.post(graph(live, "/v1.0/drives"), json={"name": "Fine"})
    assert made.status_code == 201, made.text
    drive = graph(live, f"/v1.0/drives/{made.json()['id']}")
    answer = admin.patch(drive, json={"quota": {"total": 2**64}})
    assert "quota" in refused(answer)
    assert admin.get(drive).json()["quota"].get("total", 0) == 0
