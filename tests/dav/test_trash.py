"""The trash-bin of a space over WebDAV: delete, list, restore, purge, empty."""

from __future__ import annotations

import time

from lxml import etree

from app.models import AuditEvent

NS = {"d": "DAV:", "oc": "http://owncloud.org/ns"}
TRASH_PROPS = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
    "<d:prop><oc:trashbin-original-filename/><oc:trashbin-original-location/>"
    "<oc:trashbin-delete-datetime/><oc:trashbin-delete-timestamp/><oc:size/>"
    "<d:resourcetype/></d:prop></d:propfind>"
)
ID_PROP = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
    "<d:prop><oc:fileid/><oc:size/></d:prop></d:propfind>"
)


def trash_url(live, alice):
    return f"{live.url}/dav/spaces/trash-bin/{live.drive_id(alice)}"


def trash_listing(alice, url):
    """The trash's entries: key -> {property local name: text}."""
    answer = alice.request(
        "PROPFIND", url + "/", data=TRASH_PROPS, headers={"Depth": "1"}
    )
    assert answer.status_code == 207, answer.text
    entries = {}
    for response in etree.fromstring(answer.content).findall("d:response", NS):
        href = response.findtext("d:href", namespaces=NS).rstrip("/")
        key = href.rpartition("/")[2]
        if url.endswith(key):
            continue  # the trash itself
        values = {}
        for found in response.findall("d:propstat/d:prop/*", NS):
            values[etree.QName(found).localname] = found.text
        folder = response.find("d:propstat/d:prop/d:resourcetype/d:collection", NS)
        values["folder"] = folder is not None
        entries[key] = values
    return entries


def prop(alice, url, name):
    answer = alice.request("PROPFIND", url, data=ID_PROP, headers={"Depth": "0"})
    assert answer.status_code == 207, answer.text
    return etree.fromstring(answer.content).findtext(f".//oc:{name}", namespaces=NS)


def test_delete_moves_to_the_trash_and_restore_brings_it_back(live, alice):
    dav, trash = live.dav(), trash_url(live, alice)
    alice.request("MKCOL", f"{dav}/docs")
    alice.put(f"{dav}/docs/a.txt", data=b"hello")
    file_id = prop(alice, f"{dav}/docs/a.txt", "fileid")
    before = time.time()

    assert alice.delete(f"{dav}/docs/a.txt").status_code == 204
    assert alice.get(f"{dav}/docs/a.txt").status_code == 404
    assert not (live.user_root() / "docs" / "a.txt").exists()

    entries = trash_listing(alice, trash)
    assert len(entries) == 1
    key, entry = next(iter(entries.items()))
    assert entry["trashbin-original-filename"] == "a.txt"
    assert entry["trashbin-original-location"] == "docs/a.txt"
    assert entry["size"] == "5"
    assert before - 1 <= int(entry["trashbin-delete-timestamp"]) <= time.time()
    assert entry["trashbin-delete-datetime"].endswith("GMT")
    assert entry["folder"] is False

    restored = alice.request(
        "MOVE", f"{trash}/{key}", headers={"Destination": f"{dav}/docs/a.txt"}
    )
    assert restored.status_code == 201, restored.text
    assert alice.get(f"{dav}/docs/a.txt").content == b"hello"
    assert prop(alice, f"{dav}/docs/a.txt", "fileid") == file_id
    assert trash_listing(alice, trash) == {}


def test_restore_onto_a_taken_name_picks_a_free_one(live, alice):
    dav, trash = live.dav(), trash_url(live, alice)
    alice.put(f"{dav}/a.txt", data=b"old")
    alice.request("MKCOL", f"{dav}/f")
    alice.delete(f"{dav}/a.txt")
    alice.delete(f"{dav}/f")
    alice.put(f"{dav}/a.txt", data=b"new")
    alice.request("MKCOL", f"{dav}/f")
    keys = {
        e["trashbin-original-filename"]: k
        for k, e in trash_listing(alice, trash).items()
    }

    for name in ("a.txt", "f"):
        answer = alice.request(
            "MOVE", f"{trash}/{keys[name]}", headers={"Destination": f"{dav}/{name}"}
        )
        assert answer.status_code == 201, answer.text

    assert alice.get(f"{dav}/a.txt").content == b"new"
    assert alice.get(f"{dav}/a (1).txt").content == b"old"
    assert (live.user_root() / "f (1)").is_dir()


def test_a_folder_comes_back_whole_and_sizes_follow(live, alice):
    dav, trash = live.dav(), trash_url(live, alice)
    alice.request("MKCOL", f"{dav}/tree")
    alice.request("MKCOL", f"{dav}/tree/sub")
    alice.put(f"{dav}/tree/sub/x.bin", data=b"x" * 1000)
    alice.put(f"{dav}/tree/y.bin", data=b"y" * 500)
    assert prop(alice, f"{dav}/", "size") == "1500"

    alice.delete(f"{dav}/tree")
    assert prop(alice, f"{dav}/", "size") == "0"
    ((key, entry),) = trash_listing(alice, trash).items()
    assert entry["folder"] is True and entry["size"] == "1500"

    answer = alice.request(
        "MOVE", f"{trash}/{key}", headers={"Destination": f"{dav}/tree"}
    )
    assert answer.status_code == 201
    assert alice.get(f"{dav}/tree/sub/x.bin").content == b"x" * 1000
    assert prop(alice, f"{dav}/", "size") == "1500"
    assert prop(alice, f"{dav}/tree", "size") == "1500"


def test_purge_one_and_empty_the_trash(live, alice):
    dav, trash = live.dav(), trash_url(live, alice)
    for name in ("a", "b", "c"):
        alice.put(f"{dav}/{name}.txt", data=name.encode())
        alice.delete(f"{dav}/{name}.txt")
    keys = {
        e["trashbin-original-filename"]: k
        for k, e in trash_listing(alice, trash).items()
    }
    trash_dir = live.settings.state_dir / "trash"

    assert alice.delete(f"{trash}/{keys['a.txt']}").status_code == 204
    assert set(
        e["trashbin-original-filename"] for e in trash_listing(alice, trash).values()
    ) == {"b.txt", "c.txt"}
    assert alice.delete(f"{trash}/{keys['a.txt']}").status_code == 404

    assert alice.delete(f"{trash}/").status_code == 204
    assert trash_listing(alice, trash) == {}
    assert [p for p in trash_dir.rglob("*") if p.is_file()] == []


def test_another_user_cannot_see_or_touch_my_trash(live, alice):
    live.add_user("bob")
    bob = live.session("bob")
    trash = trash_url(live, alice)
    alice.put(f"{live.dav()}/a.txt", data=b"1")
    alice.delete(f"{live.dav()}/a.txt")
    (key,) = trash_listing(alice, trash)

    assert (
        bob.request("PROPFIND", trash + "/", headers={"Depth": "1"}).status_code == 404
    )
    assert bob.delete(f"{trash}/{key}").status_code == 404
    moved = bob.request(
        "MOVE", f"{trash}/{key}", headers={"Destination": f"{live.dav('bob')}/a.txt"}
    )
    assert moved.status_code == 404
    assert len(trash_listing(alice, trash)) == 1


def test_trash_and_version_changes_are_audited_with_opencloud_names(live, alice):
    dav, trash = live.dav(), trash_url(live, alice)
    alice.put(f"{dav}/a.txt", data=b"one")
    alice.put(f"{dav}/a.txt", data=b"two")
    alice.put(f"{dav}/b.txt", data=b"b")
    start = time.time()

    alice.delete(f"{dav}/a.txt")
    alice.delete(f"{dav}/b.txt")
    keys = {
        e["trashbin-original-filename"]: k
        for k, e in trash_listing(alice, trash).items()
    }
    alice.request(
        "MOVE", f"{trash}/{keys['a.txt']}", headers={"Destination": f"{dav}/a.txt"}
    )
    alice.delete(f"{trash}/{keys['b.txt']}")
    meta = f"{live.url}/dav/meta/{prop(alice, f'{dav}/a.txt', 'fileid')}"
    listing = alice.request("PROPFIND", f"{meta}/v", headers={"Depth": "1"})
    (version,) = [
        h.text
        for h in etree.fromstring(listing.content).findall(".//d:href", NS)
        if not h.text.rstrip("/").endswith("/v")
    ]
    restored = alice.request(
        "COPY", live.url + version, headers={"Destination": f"{dav}/a.txt"}
    )
    assert restored.status_code == 204

    query = AuditEvent.select().where(AuditEvent.time >= start)
    events = [(e.action, e.actor, e.target) for e in query.order_by(AuditEvent.id)]
    actions = [action for action, _, _ in events if action != "file_read"]
    assert actions == [
        "file_delete",
        "file_delete",
        "file_trash_restore",
        "file_trash_delete",
        "file_version_restore",
    ]
    assert {actor for _, actor, _ in events} == {"alice"}
    targets = {action: target for action, _, target in events}
    assert targets["file_trash_restore"].endswith("/a.txt")
    assert targets["file_trash_delete"].endswith(keys["b.txt"])
    assert targets["file_version_restore"].endswith("/a.txt")
