"""Versions and trash of a project space by member role: who lists, restores, purges."""

from __future__ import annotations

import pytest
from lxml import etree

from app import roles, spaces, users

NS = {"d": "DAV:", "oc": "http://owncloud.org/ns"}
FILEID = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
    "<d:prop><oc:fileid/></d:prop></d:propfind>"
)

# role: (versions listed, version restored, trash listed, restored, purged)
EXPECTED = {
    roles.MANAGER: (207, 204, 207, 201, 204),
    roles.SPACE_EDITOR: (207, 204, 207, 201, 403),
    roles.SPACE_EDITOR_WITHOUT_VERSIONS: (404, 404, 207, 201, 403),
    roles.SPACE_VIEWER: (404, 404, 207, 403, 403),
}


def trash_keys(session, trash, drive):
    """The trash's keys, oldest deletion first."""
    answer = session.request("PROPFIND", f"{trash}/", headers={"Depth": "1"})
    hrefs = etree.fromstring(answer.content).findall(".//d:href", NS)
    keys = [h.text.rstrip("/").rpartition("/")[2] for h in hrefs]
    return [key for key in keys if key != drive][::-1]


@pytest.mark.parametrize("role", list(EXPECTED), ids=lambda role: role.name)
def test_versions_and_trash_follow_the_role(live, alice, role):
    space = spaces.create_project(
        live.settings.storage_dir, "Mars", creator=users.get("alice")
    )
    drive = spaces.drive_id(space)
    url = f"{live.url}/dav/spaces/{drive}"
    trash = f"{live.url}/dav/spaces/trash-bin/{drive}"
    alice.put(f"{url}/plan.txt", data=b"v1")
    alice.put(f"{url}/plan.txt", data=b"v2")
    for name in ("a.txt", "b.txt"):
        alice.put(f"{url}/{name}", data=b"x")
        alice.delete(f"{url}/{name}")
    answer = alice.request(
        "PROPFIND", f"{url}/plan.txt", data=FILEID, headers={"Depth": "0"}
    )
    meta = f"{live.url}/dav/meta/" + etree.fromstring(answer.content).findtext(
        ".//oc:fileid", namespaces=NS
    )
    (version,) = [
        href.text
        for href in etree.fromstring(
            alice.request("PROPFIND", f"{meta}/v", headers={"Depth": "1"}).content
        ).findall(".//d:href", NS)
        if not href.text.rstrip("/").endswith("/v")
    ]
    keys = trash_keys(alice, trash, drive)
    live.add_user("carol")
    spaces.add_member(space, "user", users.get("carol").id, role.id)
    carol = live.session("carol")

    statuses = (
        carol.request("PROPFIND", f"{meta}/v", headers={"Depth": "1"}).status_code,
        carol.request(
            "COPY", live.url + version, headers={"Destination": f"{url}/plan.txt"}
        ).status_code,
        carol.request("PROPFIND", f"{trash}/", headers={"Depth": "1"}).status_code,
        carol.request(
            "MOVE", f"{trash}/{keys[0]}", headers={"Destination": f"{url}/back.txt"}
        ).status_code,
        carol.delete(f"{trash}/{keys[1]}").status_code,
    )

    assert statuses == EXPECTED[role]
    restored_version = statuses[1] == 204
    assert alice.get(f"{url}/plan.txt").content == (
        b"v1" if restored_version else b"v2"
    )
    assert (alice.get(f"{url}/back.txt").status_code == 200) == (statuses[3] == 201)
    left = trash_keys(alice, trash, drive)
    assert left == keys[int(statuses[3] == 201) : 2 - int(statuses[4] == 204)]
