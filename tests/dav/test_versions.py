"""Versions: every overwrite keeps the previous content; list, download, restore."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from lxml import etree

from app import shares, spaces, users
from app.auth.principal import Principal
from app.perms import Perm
from tests.dav import test_tus

NS = {"d": "DAV:", "oc": "http://owncloud.org/ns"}
FILEID = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
    "<d:prop><oc:fileid/></d:prop></d:propfind>"
)
META = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
    "<d:prop><oc:meta-path-for-user/></d:prop></d:propfind>"
)


def file_id(session, url):
    answer = session.request("PROPFIND", url, data=FILEID, headers={"Depth": "0"})
    assert answer.status_code == 207, answer.text
    return etree.fromstring(answer.content).findtext(".//oc:fileid", namespaces=NS)


def version_hrefs(session, meta_url):
    """Hrefs of the versions under ``<meta>/v``, newest first."""
    answer = session.request("PROPFIND", f"{meta_url}/v", headers={"Depth": "1"})
    assert answer.status_code == 207, answer.text
    hrefs = [
        element.text
        for element in etree.fromstring(answer.content).findall(".//d:href", NS)
    ]
    return [h for h in hrefs if not h.rstrip("/").endswith("/v")]


def test_overwrites_keep_versions_to_list_download_and_restore(live, alice):
    dav = live.dav()
    for content in (b"one", b"two", b"three"):
        alice.put(f"{dav}/a.txt", data=content)
    fileid = file_id(alice, f"{dav}/a.txt")
    meta = f"{live.url}/dav/meta/{fileid}"

    answer = alice.request("PROPFIND", meta, data=META, headers={"Depth": "0"})
    assert answer.status_code == 207
    path = etree.fromstring(answer.content).findtext(
        ".//oc:meta-path-for-user", namespaces=NS
    )
    assert path == "/a.txt"

    hrefs = version_hrefs(alice, meta)
    assert [alice.get(live.url + h).content for h in hrefs] == [b"two", b"one"]
    head = alice.head(live.url + hrefs[0])
    assert head.status_code == 200 and head.headers["Content-Length"] == "3"

    restored = alice.request(
        "COPY", live.url + hrefs[1], headers={"Destination": f"{dav}/a.txt"}
    )
    assert restored.status_code == 204, restored.text
    assert alice.get(f"{dav}/a.txt").content == b"one"
    assert file_id(alice, f"{dav}/a.txt") == fileid
    contents = [alice.get(live.url + h).content for h in version_hrefs(alice, meta)]
    assert sorted(contents) == [b"three", b"two"]


def test_versions_live_outside_the_tree_and_count_nowhere_in_it(live, alice):
    dav = live.dav()
    alice.put(f"{dav}/a.txt", data=b"x" * 100)
    alice.put(f"{dav}/a.txt", data=b"y" * 10)
    kept = [p for p in (live.settings.state_dir / "versions").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in kept] == [b"x" * 100]
    assert sorted(p.name for p in live.user_root().iterdir()) == ["a.txt"]
    size = alice.request(
        "PROPFIND",
        f"{dav}/",
        headers={"Depth": "0"},
        data='<?xml version="1.0"?><d:propfind xmlns:d="DAV:" '
        'xmlns:oc="http://owncloud.org/ns"><d:prop><oc:size/></d:prop></d:propfind>',
    )
    assert b">10<" in size.content


def test_office_lock_and_temporary_files_get_no_versions(live, alice):
    dav = live.dav()
    for name in ("~$report.docx", ".~lock.report.odt#"):
        url = f"{dav}/{quote(name)}"
        alice.put(url, data=b"1")
        alice.put(url, data=b"2")
        meta = f"{live.url}/dav/meta/{file_id(alice, url)}"
        assert version_hrefs(alice, meta) == []
    assert sorted(p.name for p in live.user_root().iterdir()) == [
        ".~lock.report.odt#",
        "~$report.docx",
    ]


def test_another_user_sees_no_versions(live, alice):
    live.add_user("bob")
    bob = live.session("bob")
    dav = live.dav()
    alice.put(f"{dav}/a.txt", data=b"1")
    alice.put(f"{dav}/a.txt", data=b"2")
    meta = f"{live.url}/dav/meta/{file_id(alice, f'{dav}/a.txt')}"
    (href,) = version_hrefs(alice, meta)

    assert (
        bob.request("PROPFIND", f"{meta}/v", headers={"Depth": "1"}).status_code == 404
    )
    assert bob.get(live.url + href).status_code == 404
    copied = bob.request(
        "COPY", live.url + href, headers={"Destination": f"{dav}/a.txt"}
    )
    assert copied.status_code == 404
    assert alice.get(f"{dav}/a.txt").content == b"2"


@pytest.mark.parametrize(
    ("role", "listed", "restored"),
    [("FileEditor", 207, 204), ("Viewer", 404, 404)],
)
def test_a_share_recipient_sees_versions_as_the_role_allows(
    live, alice, role, listed, restored
):
    live.add_user("bob")
    bob = live.session("bob")
    dav = live.dav()
    alice.put(f"{dav}/a.txt", data=b"1")
    alice.put(f"{dav}/a.txt", data=b"2")
    owner = Principal(user_id=str(users.get("alice").id), name="alice")
    item = live.app.grove.tree(spaces.personal_space(users.get("alice"))).item(
        ["a.txt"]
    )
    shares.share(
        owner, item, Perm.owner(), grantee_type="user", grantee_id="bob", role=role
    )
    meta = f"{live.url}/dav/meta/{file_id(alice, f'{dav}/a.txt')}"
    (href,) = version_hrefs(alice, meta)

    assert (
        bob.request("PROPFIND", f"{meta}/v", headers={"Depth": "1"}).status_code
        == listed
    )
    answer = bob.request(
        "COPY", live.url + href, headers={"Destination": f"{dav}/a.txt"}
    )
    assert answer.status_code == restored
    assert alice.get(f"{dav}/a.txt").content == (b"1" if restored == 204 else b"2")


def test_a_copy_onto_a_file_keeps_its_id_and_a_version(live, alice):
    dav = live.dav()
    alice.put(f"{dav}/a.txt", data=b"target")
    alice.put(f"{dav}/b.txt", data=b"source")
    target_id = file_id(alice, f"{dav}/a.txt")
    answer = alice.request(
        "COPY", f"{dav}/b.txt", headers={"Destination": f"{dav}/a.txt"}
    )
    assert answer.status_code == 204, answer.text

    assert alice.get(f"{dav}/a.txt").content == b"source"
    assert file_id(alice, f"{dav}/a.txt") == target_id
    meta = f"{live.url}/dav/meta/{target_id}"
    assert [alice.get(live.url + h).content for h in version_hrefs(alice, meta)] == [
        b"target"
    ]
    trash = f"{live.url}/dav/spaces/trash-bin/{live.drive_id(alice)}/"
    listing = alice.request("PROPFIND", trash, headers={"Depth": "1"})
    assert listing.content.count(b"<D:response>") == 1  # nothing went to the trash


def test_an_upload_through_tus_keeps_the_previous_content_too(live, alice):
    dav = live.dav()
    alice.put(f"{dav}/a.txt", data=b"by put")
    location = test_tus.create(alice, f"{dav}/", 7, filename="a.txt")
    assert test_tus.patch(location, 0, b"by tus!", session=alice).status_code == 204

    assert alice.get(f"{dav}/a.txt").content == b"by tus!"
    meta = f"{live.url}/dav/meta/{file_id(alice, f'{dav}/a.txt')}"
    assert [alice.get(live.url + h).content for h in version_hrefs(alice, meta)] == [
        b"by put"
    ]
