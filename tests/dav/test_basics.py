"""Core WebDAV behaviour through every URL layout."""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from lxml import etree

from app.storage.ids import read_id

NS = {"d": "DAV:", "oc": "http://owncloud.org/ns"}
PROPS = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
    "<d:prop><d:getetag/><oc:id/><oc:fileid/><oc:permissions/><oc:size/>"
    "<oc:checksums/><d:getcontentlength/></d:prop></d:propfind>"
)


def propfind(session, url, depth="1", body=PROPS):
    answer = session.request("PROPFIND", url, data=body, headers={"Depth": depth})
    assert answer.status_code == 207, answer.text
    assert answer.headers["Content-Type"] == "application/xml; charset=utf-8"
    return etree.fromstring(answer.content)


def prop(tree, href_suffix, name):
    for response in tree.findall("d:response", NS):
        if response.findtext("d:href", namespaces=NS).endswith(href_suffix):
            return response.find(f".//d:propstat/d:prop/{name}", NS)
    raise AssertionError(f"no response for {href_suffix}")


def test_put_then_get_round_trips_bytes(live, alice):
    payload = os.urandom(100_000)
    answer = alice.put(f"{live.dav()}/a.bin", data=payload)
    assert answer.status_code == 201
    assert answer.headers["ETag"] == answer.headers["OC-ETag"]
    assert alice.get(f"{live.dav()}/a.bin").content == payload
    assert (live.user_root() / "a.bin").read_bytes() == payload


def test_same_file_at_every_url_layout(live, alice):
    alice.put(f"{live.dav()}/x.txt", data=b"hello")
    tree = propfind(alice, f"{live.dav()}/", depth="0")
    drive = prop(tree, "/alice/", "oc:id").text.rpartition("!")[0]
    user_id = live.session().request("PROPFIND", f"{live.dav()}/x.txt")
    assert user_id.status_code == 207
    for url in (
        f"{live.url}/remote.php/webdav/x.txt",
        f"{live.url}/dav/files/alice/x.txt",
        f"{live.url}/dav/spaces/{drive}/x.txt",
        f"{live.url}/dav/spaces/{drive.partition('$')[2]}/x.txt",
    ):
        assert alice.get(url).content == b"hello", url


def test_hrefs_echo_the_prefix_used(live, alice):
    alice.put(f"{live.dav()}/x.txt", data=b"hello")
    tree = propfind(alice, f"{live.url}/remote.php/webdav/")
    hrefs = [h.text for h in tree.findall("d:response/d:href", NS)]
    assert "/remote.php/webdav/x.txt" in hrefs


def test_getetag_is_quoted_like_the_header(live, alice):
    answer = alice.put(f"{live.dav()}/e.txt", data=b"1")
    tree = propfind(alice, f"{live.dav()}/e.txt", depth="0")
    assert prop(tree, "/e.txt", "d:getetag").text == answer.headers["ETag"]
    assert answer.headers["ETag"].startswith('"')


def test_etag_changes_with_content_even_when_mtime_is_set_back(live, alice):
    url = f"{live.dav()}/m.txt"
    first = alice.put(url, data=b"one", headers={"X-OC-Mtime": "1500000000"})
    second = alice.put(url, data=b"two", headers={"X-OC-Mtime": "1500000000"})
    assert first.headers["ETag"] != second.headers["ETag"]
    assert alice.head(url).headers["ETag"] == second.headers["ETag"]


def test_folder_etag_changes_when_anything_below_changes(live, alice):
    alice.request("MKCOL", f"{live.dav()}/a")
    alice.request("MKCOL", f"{live.dav()}/a/b")
    before = prop(propfind(alice, f"{live.dav()}/", "1"), "/a/", "d:getetag").text
    root_before = prop(
        propfind(alice, f"{live.dav()}/", "0"), "/alice/", "d:getetag"
    ).text
    alice.put(f"{live.dav()}/a/b/deep.txt", data=b"x")
    after = prop(propfind(alice, f"{live.dav()}/", "1"), "/a/", "d:getetag").text
    root_after = prop(
        propfind(alice, f"{live.dav()}/", "0"), "/alice/", "d:getetag"
    ).text
    assert before != after
    assert root_before != root_after


def test_x_oc_mtime_sets_mtime_and_is_accepted(live, alice):
    answer = alice.put(
        f"{live.dav()}/t.txt", data=b"x", headers={"X-OC-Mtime": "1234567890"}
    )
    assert answer.headers["X-OC-Mtime"] == "accepted"
    assert os.stat(live.user_root() / "t.txt").st_mtime == 1234567890


def test_checksum_mismatch_is_refused_and_nothing_stored(live, alice):
    url = f"{live.dav()}/c.txt"
    alice.put(url, data=b"old")
    answer = alice.put(url, data=b"new", headers={"OC-Checksum": "SHA1:" + "0" * 40})
    assert answer.status_code == 400
    assert alice.get(url).content == b"old"
    good = hashlib.sha1(b"new").hexdigest()
    assert (
        alice.put(url, data=b"new", headers={"OC-Checksum": f"SHA1:{good}"}).status_code
        == 204
    )
    tree = propfind(alice, url, depth="0")
    assert prop(tree, "/c.txt", "oc:checksums/oc:checksum").text == f"SHA1:{good}"


def test_ids_survive_rename_and_folder_move_is_one_rename(live, alice):
    alice.request("MKCOL", f"{live.dav()}/big")
    for n in range(50):
        alice.put(f"{live.dav()}/big/{n}.txt", data=b"x")
    before = prop(
        propfind(alice, f"{live.dav()}/big/7.txt", "0"), "7.txt", "oc:id"
    ).text
    folder_id = read_id(live.user_root() / "big")
    moved = alice.request(
        "MOVE", f"{live.dav()}/big", headers={"Destination": f"{live.dav()}/moved"}
    )
    assert moved.status_code == 201
    after = prop(
        propfind(alice, f"{live.dav()}/moved/7.txt", "0"), "7.txt", "oc:id"
    ).text
    assert before == after
    assert read_id(live.user_root() / "moved") == folder_id


def test_recursive_size_of_folders(live, alice):
    alice.request("MKCOL", f"{live.dav()}/s")
    alice.put(f"{live.dav()}/s/a", data=b"12345")
    alice.put(f"{live.dav()}/s/b", data=b"123")
    tree = propfind(alice, f"{live.dav()}/", "1")
    assert prop(tree, "/s/", "oc:size").text == "8"


def test_files_written_on_disk_are_listed_with_an_id(live, alice):
    (live.user_root() / "outside.txt").write_bytes(b"from a program")
    tree = propfind(alice, f"{live.dav()}/", "1")
    assert prop(tree, "/outside.txt", "oc:fileid").text.endswith(
        read_id(live.user_root() / "outside.txt")
    )


def test_other_users_space_is_invisible(live, alice):
    live.add_user("bob")
    bob = live.session("bob")
    bob.put(f"{live.dav('bob')}/secret.txt", data=b"s")
    assert alice.get(f"{live.dav('bob')}/secret.txt").status_code == 404
    assert alice.put(f"{live.dav('bob')}/x.txt", data=b"s").status_code in (
        403,
        404,
        409,
    )


def test_wrong_password_is_401_with_basic_challenge(live):
    answer = live.session("alice", "wrong-password").request("PROPFIND", live.dav())
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Basic")


def test_password_change_takes_effect_at_once(live, alice):
    from app.users import set_password

    assert (
        alice.request("PROPFIND", live.dav(), headers={"Depth": "0"}).status_code == 207
    )
    set_password("alice", "another password")
    assert (
        alice.request("PROPFIND", live.dav(), headers={"Depth": "0"}).status_code == 401
    )


def test_anonymous_options_answers_dav(live):
    import requests

    answer = requests.options(f"{live.url}/")
    assert answer.status_code == 200
    assert "2" in answer.headers["DAV"]
    assert answer.headers["MS-Author-Via"] == "DAV"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints(live, path):
    import requests

    assert requests.get(live.url + path).json()["status"] == "ok"


def test_lock_taken_through_one_layout_holds_on_another(live, alice):
    alice.put(f"{live.dav()}/l.txt", data=b"1")
    body = (
        '<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/>'
        "</d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>"
    )
    locked = alice.request("LOCK", f"{live.dav()}/l.txt", data=body)
    assert locked.status_code == 200
    other = alice.put(f"{live.url}/remote.php/webdav/l.txt", data=b"2")
    assert other.status_code == 423
    token = locked.headers["Lock-Token"]
    ok = alice.put(
        f"{live.url}/remote.php/webdav/l.txt", data=b"2", headers={"If": f"({token})"}
    )
    assert ok.status_code == 204
    time.sleep(0)


def test_dav_files_accepts_the_user_id_as_well_as_the_name(live, alice):
    from app.models import User

    alice.put(f"{live.dav()}/id.txt", data=b"by id")
    user_id = User.get(User.name == "alice").id
    assert alice.get(f"{live.url}/dav/files/{user_id}/id.txt").content == b"by id"
    listing = alice.request(
        "PROPFIND", f"{live.url}/dav/files/{user_id}/", headers={"Depth": "1"}
    )
    assert f"/dav/files/{user_id}/id.txt".encode() in listing.content
