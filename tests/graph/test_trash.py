"""A drive's trash through the API (Grove's extension): list, restore, purge."""

from __future__ import annotations

import requests

from app import users
from tests.conftest import LiveServer
from tests.graph.contract import assert_conforms

BASE = "/graph/v1.0/extensions/org.grove/trash"


def trash_of(live: LiveServer, session: requests.Session) -> str:
    return f"{live.url}{BASE}/{live.drive_id(session)}"


def listed(session: requests.Session, url: str) -> list[dict]:
    answer = session.get(url)
    assert answer.status_code == 200, answer.text
    return answer.json()["value"]


def test_trashed_items_are_listed_restored_and_purged(
    live: LiveServer, alice: requests.Session
) -> None:
    dav, url = live.dav(), trash_of(live, alice)
    alice.request("MKCOL", f"{dav}/docs")
    alice.put(f"{dav}/docs/a.txt", data=b"first")
    alice.delete(f"{dav}/docs/a.txt")

    (entry,) = listed(alice, url)
    assert entry["name"] == "a.txt" and entry["size"] == 5 and entry["file"] == {}
    assert entry["parentReference"]["path"] == "/docs"
    assert entry["deleted"] == {"state": "trashed"}
    who = entry["trash"]["trashedBy"]["user"]
    assert who["id"] == users.get("alice").id
    assert entry["trash"]["trashedDateTime"].endswith("Z")

    restored = alice.post(f"{url}/{entry['id']}/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["name"] == "a.txt"
    assert alice.get(f"{dav}/docs/a.txt").content == b"first"
    assert listed(alice, url) == []

    # The name is taken again: the restored item gets a free one.
    alice.delete(f"{dav}/docs/a.txt")
    alice.put(f"{dav}/docs/a.txt", data=b"second")
    (entry,) = listed(alice, url)
    restored = alice.post(f"{url}/{entry['id']}/restore", json={})
    assert restored.json()["name"] == "a (1).txt"
    assert alice.get(f"{dav}/docs/a (1).txt").content == b"first"

    for name in ("x.txt", "y.txt", "z.txt"):
        alice.put(f"{dav}/{name}", data=b"x")
        alice.delete(f"{dav}/{name}")
    keys = {e["name"]: e["id"] for e in listed(alice, url)}
    assert alice.delete(f"{url}/{keys['x.txt']}").status_code == 204
    assert alice.delete(f"{url}/{keys['x.txt']}").status_code == 404
    assert sorted(e["name"] for e in listed(alice, url)) == ["y.txt", "z.txt"]
    assert alice.delete(url).status_code == 204
    assert listed(alice, url) == []


def test_restore_into_another_folder_under_another_name(
    live: LiveServer, alice: requests.Session
) -> None:
    dav, url = live.dav(), trash_of(live, alice)
    alice.request("MKCOL", f"{dav}/gone")
    alice.put(f"{dav}/gone/a.txt", data=b"a")
    alice.delete(f"{dav}/gone/a.txt")
    alice.delete(f"{dav}/gone")
    alice.request("MKCOL", f"{dav}/here")
    keys = {e["name"]: e["id"] for e in listed(alice, url)}

    # Where it came from is in the trash itself: 409, and the item stays.
    lost = alice.post(f"{url}/{keys['a.txt']}/restore")
    assert lost.status_code == 409
    assert lost.json()["error"]["code"] == "conflict"
    here = alice.request(
        "PROPFIND",
        f"{dav}/here",
        headers={"Depth": "0"},
        data='<?xml version="1.0"?><d:propfind xmlns:d="DAV:" '
        'xmlns:oc="http://owncloud.org/ns"><d:prop><oc:fileid/></d:prop></d:propfind>',
    )
    folder_id = here.text.split("<oc:fileid>")[1].split("<")[0]
    moved = alice.post(
        f"{url}/{keys['a.txt']}/restore",
        json={"parentReference": {"id": folder_id}, "name": "b.txt"},
    )
    assert moved.status_code == 200, moved.text
    assert alice.get(f"{dav}/here/b.txt").content == b"a"

    bad = alice.post(f"{url}/{keys['gone']}/restore", json={"name": "../x"})
    assert bad.status_code == 400
    unknown = alice.post(f"{url}/{keys['gone']}/restore", json={"colour": "red"})
    assert unknown.status_code == 400
    assert [e["name"] for e in listed(alice, url)] == ["gone"]


def test_others_neither_see_nor_touch_my_trash(
    live: LiveServer, alice: requests.Session
) -> None:
    live.add_user("bob")
    bob = live.session("bob")
    url = trash_of(live, alice)
    alice.put(f"{live.dav()}/a.txt", data=b"1")
    alice.delete(f"{live.dav()}/a.txt")
    (entry,) = listed(alice, url)

    assert bob.get(url).status_code == 404
    assert bob.post(f"{url}/{entry['id']}/restore").status_code == 404
    assert bob.delete(f"{url}/{entry['id']}").status_code == 404
    assert bob.delete(url).status_code == 404
    assert len(listed(alice, url)) == 1


def fileid(session: requests.Session, url: str) -> str:
    answer = session.request(
        "PROPFIND",
        url,
        headers={"Depth": "0"},
        data='<?xml version="1.0"?><d:propfind xmlns:d="DAV:" '
        'xmlns:oc="http://owncloud.org/ns"><d:prop><oc:fileid/></d:prop></d:propfind>',
    )
    assert answer.status_code == 207, answer.text
    return answer.text.split("<oc:fileid>")[1].split("<")[0]


def test_delete_drive_item_moves_it_to_the_trash(
    live: LiveServer, alice: requests.Session
) -> None:
    dav, drive = live.dav(), live.drive_id(alice)
    items = f"{live.url}/graph/v1beta1/drives/{drive}/items"
    alice.request("MKCOL", f"{dav}/docs")
    alice.put(f"{dav}/docs/a.txt", data=b"a")
    alice.put(f"{dav}/locked.txt", data=b"l")
    docs = fileid(alice, f"{dav}/docs")

    gone = alice.delete(f"{items}/{docs}")
    assert gone.status_code == 204, gone.text
    assert_conforms(gone)
    assert alice.get(f"{dav}/docs/a.txt").status_code == 404
    (entry,) = listed(alice, trash_of(live, alice))
    assert entry["name"] == "docs" and entry["folder"] == {}

    lock = alice.request(
        "LOCK",
        f"{dav}/locked.txt",
        data='<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope>'
        "<d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype>"
        "</d:lockinfo>",
    )
    assert lock.status_code == 200
    locked = alice.delete(f"{items}/{fileid(alice, f'{dav}/locked.txt')}")
    assert locked.status_code == 423
    assert_conforms(locked)
    assert alice.get(f"{dav}/locked.txt").content == b"l"

    root = alice.delete(f"{items}/{fileid(alice, f'{dav}/')}")
    assert root.status_code == 403
    live.add_user("bob")
    bob = live.session("bob")
    assert (
        bob.delete(f"{items}/{fileid(alice, f'{dav}/locked.txt')}").status_code == 404
    )
    assert alice.delete(f"{items}/{docs}").status_code == 404  # already in the trash
