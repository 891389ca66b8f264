"""Bad input gets a clear error and loses nothing (issue 2, section 4).

Requests that a client library would normalise are sent raw (tests.dav.rawhttp).
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from email.utils import formatdate
from pathlib import Path

import pytest
import requests
from lxml import etree

from tests.conftest import make_settings, start_server
from tests.dav.rawhttp import auth_header, chunked, send

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

    # Moved elsewhere it still leads to its file, with the same id; a copy
    # is a file of its own.
    (root / "link.txt").symlink_to("real.txt")
    link_id = fileids()["link.txt"]
    alice.request("MKCOL", f"{live.dav()}/sub")
    moved = alice.request(
        "MOVE",
        f"{live.dav()}/link.txt",
        headers={"Destination": f"{live.dav()}/sub/moved.txt"},
    )
    assert moved.status_code == 201
    assert (root / "sub" / "moved.txt").is_symlink()
    assert alice.get(f"{live.dav()}/sub/moved.txt").content == b"real"
    moved_id = alice.request(
        "PROPFIND", f"{live.dav()}/sub/moved.txt", data=body, headers={"Depth": "0"}
    )
    assert link_id in moved_id.text
    copied = alice.request(
        "COPY",
        f"{live.dav()}/sub/moved.txt",
        headers={"Destination": f"{live.dav()}/copy.txt"},
    )
    assert copied.status_code == 201
    assert not (root / "copy.txt").is_symlink()
    assert (root / "copy.txt").read_bytes() == b"real"


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


# --- hostile XML --------------------------------------------------------------------

LAUGHS = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
HOSTILE_DOCTYPES = [
    # billion laughs: nine levels of tenfold entity expansion
    f'<!DOCTYPE d:x [<!ENTITY lol0 "lol">{LAUGHS}]>',
    # an external entity that would read a local file
    '<!DOCTYPE d:x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    # a parameter entity and an external DTD
    '<!DOCTYPE d:x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    '<!DOCTYPE d:x SYSTEM "file:///etc/passwd">',
    # any DOCTYPE at all
    "<!DOCTYPE d:x>",
]
REFERENCE = {0: "&lol9;", 1: "&xxe;"}


def hostile_bodies(template: str) -> list[bytes]:
    out = []
    for index, doctype in enumerate(HOSTILE_DOCTYPES):
        text = (
            '<?xml version="1.0"?>'
            + doctype
            + template.replace("VALUE", REFERENCE.get(index, "plain"))
        )
        out.append(text.encode())
    # The same in UTF-16, which a byte search for "<!DOCTYPE" would miss.
    out.append(
        (
            "<?xml version='1.0' encoding='UTF-16'?>"
            + HOSTILE_DOCTYPES[1]
            + template.replace("VALUE", "&xxe;")
        ).encode("utf-16")
    )
    return out


PROPFIND_T = (
    '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:VALUE/></d:prop></d:propfind>'
).replace("<d:VALUE/>", "<d:displayname>VALUE</d:displayname>")
PROPPATCH_T = (
    '<d:propertyupdate xmlns:d="DAV:" xmlns:x="urn:example"><d:set><d:prop>'
    "<x:evil>VALUE</x:evil></d:prop></d:set></d:propertyupdate>"
)
LOCK_T = (
    '<d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope>'
    "<d:locktype><d:write/></d:locktype><d:owner>VALUE</d:owner></d:lockinfo>"
)


def test_hostile_xml_is_refused_with_400_and_changes_nothing(live, alice):
    url = f"{live.dav()}/doc.txt"
    alice.put(url, data=b"content")
    folder = f"{live.dav()}/"
    for method, target, template in (
        ("PROPFIND", folder, PROPFIND_T),
        ("PROPFIND", url, PROPFIND_T),
        ("PROPPATCH", url, PROPPATCH_T),
        ("PROPPATCH", folder, PROPPATCH_T),
        ("LOCK", url, LOCK_T),
        ("LOCK", f"{live.dav()}/new.txt", LOCK_T),
        ("LOCK", folder, LOCK_T),
    ):
        for body in hostile_bodies(template):
            started = time.monotonic()
            answer = alice.request(
                method,
                target,
                data=body,
                headers={"Depth": "0", "Timeout": "Second-60"},
            )
            assert answer.status_code == 400, (method, body[:80], answer.status_code)
            assert b"root:" not in answer.content and b"lollol" not in answer.content
            assert time.monotonic() - started < 2

    # Nothing changed: no property set, no lock left, no file made.
    check = (
        '<d:propfind xmlns:d="DAV:" xmlns:x="urn:example"><d:prop><x:evil/>'
        "<d:lockdiscovery/></d:prop></d:propfind>"
    )
    answer = alice.request("PROPFIND", folder, data=check, headers={"Depth": "1"})
    tree = etree.fromstring(answer.content)
    assert (
        tree.find(".//{urn:example}evil/..", NS)
        .getparent()
        .findtext("d:status", namespaces=NS)
        .endswith("404 Not Found")
    )
    assert not tree.findall(".//d:activelock", NS)
    assert not any(
        name.startswith("user.grove.props")
        for name in os.listxattr(live.user_root() / "doc.txt")
    )
    assert files_below(live.user_root()) == {"doc.txt"}
    assert alice.put(url, data=b"changed").status_code == 204


def test_xml_body_over_the_limit_is_refused_before_it_is_read(live):
    # 20 MB announced, 64 KiB sent: the answer comes before the body does.
    started = time.monotonic()
    answer = send(
        live.url,
        "PROPFIND",
        f"{BASE}/",
        {"Depth": "1", "Content-Type": "application/xml"},
        b"<" * 65536,
        length=20 * 1024 * 1024,
    )
    assert answer.status == 413
    assert time.monotonic() - started < 5


def test_move_and_copy_bodies_are_held_to_the_xml_rules(live, alice):
    alice.put(f"{live.dav()}/a.txt", data=b"mine")
    destination = {"Destination": f"{live.dav()}/b.txt"}
    for method in ("MOVE", "COPY"):
        answer = send(
            live.url,
            method,
            f"{BASE}/a.txt",
            destination,
            b"<" * 65536,
            length=20 * 1024 * 1024,
        )
        assert answer.status == 413, method
        for body in hostile_bodies(
            '<d:propertybehavior xmlns:d="DAV:"><d:keepalive>VALUE</d:keepalive>'
            "</d:propertybehavior>"
        ):
            answer = alice.request(
                method, f"{live.dav()}/a.txt", data=body, headers=destination
            )
            assert answer.status_code == 400, method
    assert files_below(live.user_root()) == {"a.txt"}
    # RFC 2518's propertybehavior is still accepted (DAV Explorer sends it).
    keepalive = (
        '<?xml version="1.0"?><d:propertybehavior xmlns:d="DAV:">'
        "<d:keepalive>*</d:keepalive></d:propertybehavior>"
    )
    answer = alice.request(
        "COPY", f"{live.dav()}/a.txt", data=keepalive, headers=destination
    )
    assert answer.status_code == 201
    assert alice.get(f"{live.dav()}/b.txt").content == b"mine"


def test_chunked_xml_body_is_held_to_the_same_limit(tmp_path):
    with serving(tmp_path, max_xml_body_bytes=4096) as live:
        small = (
            b'<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/>'
            b"</d:prop></d:propfind>"
        )
        padded = small.replace(b"<d:prop>", b"<d:prop>" + b" " * 5000)
        chunked_head = {"Depth": "0", "Transfer-Encoding": "chunked"}
        for method in ("PROPFIND", "PROPPATCH", "LOCK"):
            answer = send(
                live.url, method, f"{BASE}/", chunked_head, chunked(padded, 1000)
            )
            assert answer.status == 413, method
            answer = send(live.url, method, f"{BASE}/", {"Depth": "0"}, padded)
            assert answer.status == 413, method
        answer = send(
            live.url, "PROPFIND", f"{BASE}/", chunked_head, chunked(small, 10)
        )
        assert answer.status == 207
        assert b"getetag" in answer.body


# --- Depth: infinity ------------------------------------------------------------------


class serving:
    """A Grove with its own settings and user alice, stopped on exit."""

    def __init__(self, tmp_path: Path, **overrides) -> None:
        self.settings = make_settings(tmp_path / "data", **overrides)

    def __enter__(self):
        self.server, live = start_server(self.settings)
        try:
            live.add_user("alice")
        except BaseException:
            self.server.stop()
            raise
        return live

    def __exit__(self, *exc) -> None:
        self.server.stop()


def fill(root: Path, count: int, folders: int = 3) -> None:
    """``count`` members below ``root``: ``folders`` folders, then files in them."""
    made = 0
    for index in range(folders):
        (root / f"f{index}").mkdir()
        made += 1
    while made < count:
        (root / f"f{made % folders}" / f"{made}.txt").write_bytes(b"x")
        made += 1


def propfind_status(session, url: str, depth: str | None) -> requests.Response:
    headers = {} if depth is None else {"Depth": depth}
    return session.request("PROPFIND", url, headers=headers)


def test_depth_infinity_is_answered_up_to_the_limit_and_refused_beyond(tmp_path):
    with serving(tmp_path, propfind_infinity_limit=20) as live:
        alice = live.session()
        root = live.user_root()
        fill(root, 20)
        for depth in ("infinity", "Infinity", None):
            answer = propfind_status(alice, live.dav() + "/", depth)
            assert answer.status_code == 207, depth
            assert len(etree.fromstring(answer.content).findall("d:response", NS)) == 21

        (root / "f0" / "one-more.txt").write_bytes(b"x")
        for depth in ("infinity", None):
            answer = propfind_status(alice, live.dav() + "/", depth)
            assert answer.status_code == 403, depth
            error = etree.fromstring(answer.content)
            assert error.tag == "{DAV:}error"
            assert error.find("d:propfind-finite-depth", NS) is not None
        assert propfind_status(alice, live.dav() + "/", "1").status_code == 207
        assert propfind_status(alice, live.dav() + "/f1", "infinity").status_code == 207


def test_depth_infinity_can_be_switched_off(tmp_path):
    with serving(tmp_path, propfind_infinity="off") as live:
        alice = live.session()
        (live.user_root() / "only.txt").write_bytes(b"x")
        for depth in ("infinity", None):
            answer = propfind_status(alice, live.dav() + "/", depth)
            assert answer.status_code == 403
            assert b"propfind-finite-depth" in answer.content
        assert propfind_status(alice, live.dav() + "/only.txt", "0").status_code == 207


# --- PUT ------------------------------------------------------------------------------


def test_content_range_on_put_is_refused_and_keeps_the_old_content(live, alice):
    url = f"{live.dav()}/r.txt"
    alice.put(url, data=b"0123456789")
    answer = alice.put(url, data=b"ab", headers={"Content-Range": "bytes 2-3/10"})
    assert answer.status_code == 400
    assert alice.get(url).content == b"0123456789"
    answer = alice.put(
        f"{live.dav()}/new.txt", data=b"ab", headers={"Content-Range": "bytes 0-1/2"}
    )
    assert answer.status_code == 400
    assert files_below(live.user_root()) == {"r.txt"}


def staging_files(live) -> list[str]:
    return os.listdir(live.settings.state_dir / "uploads")


def test_full_disk_answers_507_and_keeps_the_old_file(tmp_path):
    data = tmp_path / "small"
    data.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(data)],
        check=True,
        timeout=30,
    )
    try:
        settings = make_settings(data)
        server, live = start_server(settings)
        try:
            live.add_user("alice")
            alice = live.session()
            old = os.urandom(1024 * 1024)
            url = f"{live.dav()}/big.bin"
            assert alice.put(url, data=old).status_code == 201
            # Leave about 1 MiB free, then send 3 MiB.
            free = os.statvfs(data).f_bavail * os.statvfs(data).f_frsize
            (data / "filler").write_bytes(b"\0" * (free - 1024 * 1024))
            for target in (url, f"{live.dav()}/new.bin"):
                body = os.urandom(3 * 1024 * 1024)
                answer = send(live.url, "PUT", target.removeprefix(live.url), body=body)
                assert answer.status == 507, (target, answer)
            assert alice.get(url).content == old
            assert (live.user_root() / "big.bin").read_bytes() == old
            assert files_below(live.user_root()) == {"big.bin"}
            assert staging_files(live) == []
            # Once there is room again, the same upload goes through.
            (data / "filler").unlink()
            assert alice.put(url, data=body).status_code == 204
        finally:
            server.stop()
    finally:
        subprocess.run(["umount", "-l", str(data)], check=True, timeout=30)


def test_two_writers_with_the_same_if_match_one_wins_nothing_torn(live, alice):
    url = f"{live.dav()}/shared.bin"
    etag = alice.put(url, data=b"original").headers["ETag"]
    bodies = [bytes([65 + n]) * (16 * 1024 * 1024) for n in range(2)]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def write(body: bytes) -> None:
        session = live.session()
        barrier.wait(timeout=10)
        answer = session.put(url, data=body, headers={"If-Match": etag}, timeout=60)
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=write, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [204, 412]
    stored = (live.user_root() / "shared.bin").read_bytes()
    assert stored in bodies
    assert alice.get(url).content == stored
    assert staging_files(live) == []


def test_if_match_star_on_a_missing_file_is_412_and_creates_nothing(live, alice):
    for value in ("*", '"anything"'):
        answer = alice.put(
            f"{live.dav()}/absent.txt", data=b"x", headers={"If-Match": value}
        )
        assert answer.status_code == 412, value
    assert files_below(live.user_root()) == set()
    existing = f"{live.dav()}/present.txt"
    alice.put(existing, data=b"1")
    assert alice.put(existing, data=b"2", headers={"If-Match": "*"}).status_code == 204


def test_getetag_carries_the_quotes_of_the_etag_header(live, alice):
    alice.request("MKCOL", f"{live.dav()}/dir")
    put = alice.put(f"{live.dav()}/dir/e.txt", data=b"e")
    body = '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
    answer = alice.request(
        "PROPFIND", f"{live.dav()}/", data=body, headers={"Depth": "infinity"}
    )
    tags = {
        response.findtext("d:href", namespaces=NS): response.findtext(
            ".//d:getetag", namespaces=NS
        )
        for response in etree.fromstring(answer.content).iterfind("d:response", NS)
    }
    assert len(tags) == 3
    for href, tag in tags.items():
        assert tag.startswith('"') and tag.endswith('"') and '""' not in tag, href
    assert tags[f"{BASE}/dir/e.txt"] == put.headers["ETag"]
    assert (
        tags[f"{BASE}/dir/e.txt"]
        == alice.head(f"{live.dav()}/dir/e.txt").headers["ETag"]
    )


def test_x_oc_mtime_is_honoured_on_create_and_update(live, alice):
    url = f"{live.dav()}/m.txt"
    for body, mtime in ((b"one", "1300000000"), (b"two", "1400000000.25")):
        answer = alice.put(url, data=body, headers={"X-OC-Mtime": mtime})
        assert answer.headers["X-OC-Mtime"] == "accepted"
        assert os.stat(live.user_root() / "m.txt").st_mtime == float(mtime)
    listed = alice.request("PROPFIND", url, headers={"Depth": "0"})
    assert formatdate(1400000000, usegmt=True) in listed.text
    for bad in ("yesterday", "-5", "1e9"):
        answer = alice.put(url, data=b"three", headers={"X-OC-Mtime": bad})
        assert answer.status_code == 400, bad
    assert alice.get(url).content == b"two"


def test_broken_upload_keeps_the_old_content_and_no_staging_file(live, alice):
    url = f"{live.dav()}/b.bin"
    alice.put(url, data=b"old content")
    for sent in (0, 1024 * 1024):
        head = (
            f"PUT {BASE}/b.bin HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: {auth_header()}\r\n"
            f"Content-Length: {8 * 1024 * 1024}\r\n\r\n"
        ).encode()
        with socket.create_connection(
            ("127.0.0.1", int(live.url.rpartition(":")[2]))
        ) as sock:
            sock.sendall(head + os.urandom(sent))
            time.sleep(0.3)
        deadline = time.monotonic() + 15
        while staging_files(live) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert staging_files(live) == []
        assert alice.get(url).content == b"old content"
    assert files_below(live.user_root()) == {"b.bin"}
