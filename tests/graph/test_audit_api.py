"""The audit trail through the API (a Grove extension): admins only, filtered,
paged by seq."""

from __future__ import annotations

import requests

from app import users
from tests.conftest import PASSWORD, LiveServer

AUDIT = "/graph/v1.0/extensions/grove/audit"


def test_admins_read_the_trail_filtered_and_paged(
    live: LiveServer, alice: requests.Session
) -> None:
    users.add(live.settings.storage_dir, "root", PASSWORD, admin=True)
    admin = live.session("root")
    for number in range(3):
        alice.put(f"{live.dav()}/{number}.txt", data=b"x")

    page = admin.get(
        live.url + AUDIT, params={"actor": "alice", "action": "file_create"}
    )
    assert page.status_code == 200, page.text
    records = page.json()["value"]
    assert [r["target"].rpartition("/")[2] for r in records] == [
        "0.txt",
        "1.txt",
        "2.txt",
    ]
    assert {r["address"] for r in records} == {"127.0.0.1"}
    assert all(len(r["hash"]) == 64 for r in records)

    first = admin.get(live.url + AUDIT, params={"$top": 1, "action": "file_create"})
    [one] = first.json()["value"]
    rest = admin.get(
        live.url + AUDIT, params={"after": one["seq"], "action": "file_create"}
    )
    assert [r["seq"] for r in rest.json()["value"]] == [r["seq"] for r in records[1:]]
    since = admin.get(live.url + AUDIT, params={"since": records[2]["time"]})
    assert records[2]["seq"] in [r["seq"] for r in since.json()["value"]]


def test_other_users_may_not_read_it(live: LiveServer, alice: requests.Session) -> None:
    answer = alice.get(live.url + AUDIT)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "accessDenied"
    assert requests.get(live.url + AUDIT).status_code == 401
