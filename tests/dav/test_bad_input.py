"""Bad input gets a clear error and loses nothing (issue 2, section 4).

Requests that a client library would normalise are sent raw (tests.dav.rawhttp).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import etree

from tests.dav.rawhttp import send

NS = {"d": "DAV:"}
BASE = "/remote.php/dav/files/alice"


def files_below(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


@pytest.fixture
def bob(live):
    live.add_user("bob")
    session = live.session("bob")
    assert (
        session.put(f"{live.dav('bob')}/secret.txt", data=b"bob's").status_code == 201
    )
    return session


# --- path traversal in the URL ---------------------------------------------------


TRAVERSALS = [
    f"{BASE}/../bob/secret.txt",
    f"{BASE}/%2e%2e/bob/secret.txt",
    f"{BASE}/%2E%2E/%2e%2E/users/bob/secret.txt",
    f"{BASE}/..%2Fbob%2Fsecret.txt",
    f"{BASE}/%2e%2e%2fbob%2fsecret.txt",
    f"{BASE}/sub/./../../bob/secret.txt",
    f"{BASE}/../../../../../../../etc/passwd",
    f"{BASE}/%00/secret.txt",
]


def test_traversal_in_the_url_is_refused(live, bob):
    for target in TRAVERSALS:
        for method, body in (("GET", b""), ("PUT", b"overwritten"), ("DELETE", b"")):
            answer = send(live.url, method, target, body=body)
            assert answer.status == 400, (method, target, answer)
    assert bob.get(f"{live.dav('bob')}/secret.txt").content == b"bob's"
    assert files_below(live.user_root("alice")) == set()


def test_encoded_slash_never_becomes_a_name(live, alice):
    alice.request("MKCOL", f"{live.dav()}/sub")
    for method in ("PUT", "MKCOL"):
        answer = send(
            live.url,
            method,
            f"{BASE}/sub%2Fx.txt",
            body=b"x" if method == "PUT" else b"",
        )
        assert answer.status == 400, (method, answer)
    assert files_below(live.user_root()) == {"sub"}


def test_traversal_outside_the_storage_writes_nothing(live, tmp_path):
    before = files_below(tmp_path)
    for target in (
        f"{BASE}/../../../../escape.txt",
        f"{BASE}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/escape.txt",
        "/remote.php/webdav/../../escape.txt",
    ):
        answer = send(live.url, "PUT", target, body=b"escaped")
        assert 400 <= answer.status < 500, (target, answer)
    assert files_below(tmp_path) == before


# --- path traversal in Destination -----------------------------------------------


DESTINATION_TRAVERSALS = [
    "{url}/remote.php/dav/files/alice/../bob/stolen.txt",
    "{url}/remote.php/dav/files/alice/%2e%2e/bob/stolen.txt",
    "{url}/remote.php/dav/files/alice/sub/..%2F..%2Fbob%2Fstolen.txt",
    "{url}/remote.php/dav/files/alice/sub%2Fstolen.txt",
    "/remote.php/dav/files/alice/../../../../../tmp/stolen.txt",
    "/remote.php/dav/files/alice/sub/%2E%2E/%2E%2E/bob/stolen.txt",
]


def test_traversal_in_destination_is_refused(live, alice, bob):
    alice.request("MKCOL", f"{live.dav()}/sub")
    alice.put(f"{live.dav()}/a.txt", data=b"mine")
    for method in ("MOVE", "COPY"):
        for destination in DESTINATION_TRAVERSALS:
            headers = {"Destination": destination.format(url=live.url)}
            answer = send(live.url, method, f"{BASE}/a.txt", headers)
            assert answer.status == 400, (method, destination, answer)
    assert alice.get(f"{live.dav()}/a.txt").content == b"mine"
    assert files_below(live.user_root("alice")) == {"sub", "a.txt"}
    assert files_below(live.user_root("bob")) == {"secret.txt"}


def test_destination_on_another_host_is_refused(live, alice):
    alice.put(f"{live.dav()}/a.txt", data=b"mine")
    host = live.url.removeprefix("http://")
    for method in ("MOVE", "COPY"):
        for destination in (
            "http://elsewhere.example/remote.php/dav/files/alice/b.txt",
            "http://127.0.0.1:1/remote.php/dav/files/alice/b.txt",
            f"https://{host}/remote.php/dav/files/alice/b.txt",
            "//elsewhere.example/remote.php/dav/files/alice/b.txt",
        ):
            answer = send(
                live.url, method, f"{BASE}/a.txt", {"Destination": destination}
            )
            assert answer.status == 502 or 400 <= answer.status < 500, answer
    assert files_below(live.user_root()) == {"a.txt"}


def test_destination_in_another_users_space_writes_nothing(live, alice, bob):
    alice.put(f"{live.dav()}/a.txt", data=b"mine")
    drive = bob.request(
        "PROPFIND",
        live.dav("bob") + "/",
        headers={"Depth": "0"},
        data=(
            '<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
            "<d:prop><oc:spaceid/></d:prop></d:propfind>"
        ),
    )
    bobs_drive = etree.fromstring(drive.content).findtext(
        ".//{http://owncloud.org/ns}spaceid"
    )
    for method in ("MOVE", "COPY"):
        for destination in (
            "/remote.php/dav/files/bob/a.txt",
            f"{live.url}/remote.php/dav/files/bob/a.txt",
            f"{live.url}/remote.php/dav/files/bob/secret.txt",
            f"{live.url}/dav/spaces/{bobs_drive}/a.txt",
        ):
            headers = {"Destination": destination, "Overwrite": "T"}
            answer = send(live.url, method, f"{BASE}/a.txt", headers)
            assert answer.status in (403, 404, 409, 502), (destination, answer)
    assert files_below(live.user_root("bob")) == {"secret.txt"}
    assert bob.get(f"{live.dav('bob')}/secret.txt").content == b"bob's"
    assert alice.get(f"{live.dav()}/a.txt").content == b"mine"


# --- symlinks ---------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_bytes(b"outside secret")
    return folder


def plant_links(root: Path, outside: Path, bob_root: Path) -> None:
    (root / "out_dir").symlink_to(outside)
    (root / "out_file").symlink_to(outside / "secret.txt")
    (root / "out_new").symlink_to(outside / "new.txt")
    (root / "bobs").symlink_to(bob_root)
    (root / "bobs_file").symlink_to("../bob/secret.txt")
    (root / "chain").symlink_to("out_file")


LINKS = ["out_dir", "out_file", "out_new", "bobs", "bobs_file", "chain"]


def test_symlinks_out_of_the_space_are_not_listed(live, alice, bob, outside):
    plant_links(live.user_root(), outside, live.user_root("bob"))
    for depth in ("1", "infinity"):
        answer = alice.request("PROPFIND", live.dav() + "/", headers={"Depth": depth})
        assert answer.status_code == 207
        hrefs = [
            h.text for h in etree.fromstring(answer.content).iterfind(".//d:href", NS)
        ]
        assert hrefs == [f"{BASE}/"], hrefs


def test_symlinks_out_of_the_space_are_not_readable(live, alice, bob, outside):
    plant_links(live.user_root(), outside, live.user_root("bob"))
    for path in (
        "out_dir/secret.txt",
        "out_file",
        "bobs/secret.txt",
        "bobs_file",
        "chain",
    ):
        answer = alice.get(f"{live.dav()}/{path}")
        assert answer.status_code == 404, path
        assert b"outside secret" not in answer.content
        assert b"bob's" not in answer.content
        propfind = alice.request(
            "PROPFIND", f"{live.dav()}/{path}", headers={"Depth": "0"}
        )
        assert propfind.status_code == 404, path


def test_symlinks_out_of_the_space_are_not_writable_through(live, alice, bob, outside):
    root = live.user_root()
    plant_links(root, outside, live.user_root("bob"))
    alice.put(f"{live.dav()}/a.txt", data=b"mine")
    attempts = [
        ("PUT", "out_dir/new.txt", {}),
        ("PUT", "out_file", {}),
        ("PUT", "out_new", {}),
        ("PUT", "bobs/secret.txt", {}),
        ("PUT", "bobs_file", {}),
        ("PUT", "chain", {}),
        ("MKCOL", "out_dir/folder", {}),
        ("MKCOL", "bobs/folder", {}),
        ("DELETE", "out_dir", {}),
        ("DELETE", "out_file", {}),
        ("DELETE", "bobs", {}),
        ("MOVE", "a.txt", {"Destination": f"{live.dav()}/out_dir/a.txt"}),
        ("COPY", "a.txt", {"Destination": f"{live.dav()}/bobs/a.txt"}),
        ("COPY", "a.txt", {"Destination": f"{live.dav()}/out_file", "Overwrite": "T"}),
        ("MOVE", "out_file", {"Destination": f"{live.dav()}/mine.txt"}),
        ("COPY", "bobs_file", {"Destination": f"{live.dav()}/mine.txt"}),
    ]
    for method, path, headers in attempts:
        answer = alice.request(
            method, f"{live.dav()}/{path}", data=b"evil", headers=headers
        )
        assert 400 <= answer.status_code < 500, (method, path, answer.status_code)
    proppatch = (
        '<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:x="urn:x">'
        "<d:set><d:prop><x:evil>1</x:evil></d:prop></d:set></d:propertyupdate>"
    )
    answer = alice.request("PROPPATCH", f"{live.dav()}/out_file", data=proppatch)
    assert answer.status_code == 404
    assert files_below(outside) == {"secret.txt"}
    assert (outside / "secret.txt").read_bytes() == b"outside secret"
    assert [name for name in os.listxattr(outside / "secret.txt")] == []
    assert files_below(live.user_root("bob")) == {"secret.txt"}
    assert bob.get(f"{live.dav('bob')}/secret.txt").content == b"bob's"
    assert alice.get(f"{live.dav()}/a.txt").content == b"mine"
    assert all((root / name).is_symlink() for name in LINKS)


def test_symlink_to_a_file_inside_the_space_is_an_alias(live, alice):
    root = live.user_root()
    alice.put(f"{live.dav()}/real.txt", data=b"real")
    (root / "alias.txt").symlink_to("real.txt")
    body = (
        '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
        "<d:prop><oc:fileid/><d:getcontentlength/></d:prop></d:propfind>"
    )

    def fileids() -> dict[str, str]:
        answer = alice.request(
            "PROPFIND", live.dav() + "/", data=body, headers={"Depth": "1"}
        )
        assert answer.status_code == 207
        out = {}
        for response in etree.fromstring(answer.content).iterfind("d:response", NS):
            href = response.findtext("d:href", namespaces=NS)
            out[href.rpartition("/")[2]] = response.findtext(
                ".//{http://owncloud.org/ns}fileid"
            )
        return out

    first, second = fileids(), fileids()
    assert first == second
    assert first["real.txt"] != first["alias.txt"]
    real_id = alice.request(
        "PROPFIND", f"{live.dav()}/real.txt", data=body, headers={"Depth": "0"}
    )
    assert first["real.txt"] in real_id.text
    assert alice.get(f"{live.dav()}/alias.txt").content == b"real"

    # A write replaces the link with a file of its own (as Apache and nginx do).
    assert alice.put(f"{live.dav()}/alias.txt", data=b"new").status_code == 204
    assert alice.get(f"{live.dav()}/real.txt").content == b"real"
    assert alice.get(f"{live.dav()}/alias.txt").content == b"new"
    assert not (root / "alias.txt").is_symlink()
    assert fileids()["real.txt"] == first["real.txt"]

    (root / "gone.txt").symlink_to("real.txt")
    assert alice.delete(f"{live.dav()}/gone.txt").status_code == 204
    assert not (root / "gone.txt").exists()
    assert (root / "real.txt").read_bytes() == b"real"


def test_symlinked_folders_are_not_followed(live, alice):
    root = live.user_root()
    alice.request("MKCOL", f"{live.dav()}/dir")
    alice.put(f"{live.dav()}/dir/f.txt", data=b"f")
    (root / "dir" / "loop").symlink_to("..")
    (root / "dirlink").symlink_to("dir")
    answer = alice.request("PROPFIND", live.dav() + "/", headers={"Depth": "infinity"})
    assert answer.status_code == 207
    hrefs = {h.text for h in etree.fromstring(answer.content).iterfind(".//d:href", NS)}
    assert hrefs == {f"{BASE}/", f"{BASE}/dir/", f"{BASE}/dir/f.txt"}
    assert alice.get(f"{live.dav()}/dirlink/f.txt").status_code == 404
    copied = alice.request(
        "COPY", f"{live.dav()}/dir", headers={"Destination": f"{live.dav()}/copy"}
    )
    assert copied.status_code == 201
    assert files_below(root / "copy") == {"f.txt"}
    assert alice.delete(f"{live.dav()}/dir").status_code == 204
    assert (root / "dirlink").is_symlink()
    assert (root / "copy" / "f.txt").read_bytes() == b"f"
