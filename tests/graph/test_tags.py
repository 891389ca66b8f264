"""Tags through the API: assign, list (only what the caller may see), unassign."""

from __future__ import annotations

import requests
from lxml import etree

from tests.conftest import LiveServer
from tests.graph.contract import assert_conforms

TAGS = "/graph/v1.0/extensions/org.libregraph/tags"
NS = {"oc": "http://owncloud.org/ns"}
PROPS = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
    "<d:prop><oc:fileid/><oc:tags/></d:prop></d:propfind>"
)


def props(session: requests.Session, url: str) -> tuple[str, str]:
    answer = session.request("PROPFIND", url, data=PROPS, headers={"Depth": "0"})
    assert answer.status_code == 207, answer.text
    tree = etree.fromstring(answer.content)
    fileid = tree.findtext(".//oc:fileid", namespaces=NS)
    return str(fileid), tree.findtext(".//oc:tags", namespaces=NS) or ""


def test_tags_are_assigned_listed_shown_and_removed(
    live: LiveServer, alice: requests.Session
) -> None:
    url = f"{live.dav()}/report.txt"
    alice.put(url, data=b"x")
    fileid, shown = props(alice, url)
    assert shown == ""

    put = alice.put(
        live.url + TAGS, json={"resourceId": fileid, "tags": ["urgent", "2026"]}
    )
    assert put.status_code == 200, put.text
    assert_conforms(put)
    listed = alice.get(live.url + TAGS)
    assert listed.status_code == 200
    assert_conforms(listed)
    assert listed.json() == {"value": ["2026", "urgent"]}
    assert props(alice, url)[1] == "2026,urgent"

    gone = alice.delete(live.url + TAGS, json={"resourceId": fileid, "tags": ["2026"]})
    assert gone.status_code == 200
    assert_conforms(gone)
    assert alice.get(live.url + TAGS).json() == {"value": ["urgent"]}
    assert props(alice, url)[1] == "urgent"


def test_others_neither_see_nor_set_my_tags(
    live: LiveServer, alice: requests.Session
) -> None:
    live.add_user("bob")
    bob = live.session("bob")
    alice.put(f"{live.dav()}/a.txt", data=b"x")
    fileid, _ = props(alice, f"{live.dav()}/a.txt")
    alice.put(live.url + TAGS, json={"resourceId": fileid, "tags": ["secret"]})

    assert bob.get(live.url + TAGS).json() == {"value": []}
    refused = bob.put(live.url + TAGS, json={"resourceId": fileid, "tags": ["x"]})
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "itemNotFound"
    assert_conforms(refused)


def test_malformed_tag_requests_are_refused(
    live: LiveServer, alice: requests.Session
) -> None:
    alice.put(f"{live.dav()}/a.txt", data=b"x")
    fileid, _ = props(alice, f"{live.dav()}/a.txt")

    for body in (
        {"resourceId": fileid, "tags": ["a,b"]},
        {"resourceId": fileid, "tags": [" "]},
        {"resourceId": fileid},
        {"resourceId": fileid, "tags": ["a"], "color": "red"},
    ):
        answer = alice.put(live.url + TAGS, json=body)
        assert answer.status_code == 400, body
        assert_conforms(answer)
