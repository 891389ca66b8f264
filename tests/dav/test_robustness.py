"""What other programs leave in the tree, and requests that push the limits."""

from __future__ import annotations

import logging
import os
import time

import pytest

from tests.dav import rawhttp

PROPPATCH = (
    '<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:x="urn:x">'
    "<d:set><d:prop>{props}</d:prop></d:set></d:propertyupdate>"
)


def test_a_fifo_is_neither_listed_nor_served(live, alice):
    os.mkfifo(live.user_root() / "pipe")
    started = time.monotonic()
    assert alice.get(f"{live.dav()}/pipe", timeout=10).status_code == 404
    assert time.monotonic() - started < 5  # nobody blocked on the pipe
    listing = alice.request("PROPFIND", f"{live.dav()}/", headers={"Depth": "1"})
    assert b"pipe" not in listing.content
    copied = alice.request(
        "COPY", f"{live.dav()}/pipe", headers={"Destination": f"{live.dav()}/p2"}
    )
    assert copied.status_code == 404


def test_deleting_a_folder_keeps_what_grove_does_not_show(live, alice):
    folder = live.user_root() / "hid"
    folder.mkdir()
    hidden = os.path.join(os.fsencode(folder), b"latin1-\xe9.txt")
    with open(hidden, "wb") as handle:
        handle.write(b"precious")
    os.mkfifo(folder / "pipe")
    answer = alice.delete(f"{live.dav()}/hid")
    assert answer.status_code == 409
    assert open(hidden, "rb").read() == b"precious"
    os.unlink(hidden)
    assert alice.delete(f"{live.dav()}/hid").status_code == 409  # the FIFO
    os.unlink(folder / "pipe")
    assert alice.delete(f"{live.dav()}/hid").status_code == 204
    assert not folder.exists()  # in the trash, where a purge destroys nothing unseen


def test_a_path_too_long_for_the_filesystem_is_400_not_500(live, alice):
    url = live.dav()
    status = 201
    for _ in range(20):  # 20 levels of 250 bytes pass Linux's 4096-byte PATH_MAX
        url += "/" + "d" * 250
        status = alice.request("MKCOL", url).status_code
        if status != 201:
            break
    assert status == 400
    assert alice.put(url + "/f", data=b"x").status_code in (400, 409)


def test_a_malformed_chunked_body_is_400_and_leaves_the_old_file(live, alice, caplog):
    alice.put(f"{live.dav()}/c.txt", data=b"old")
    caplog.set_level(logging.WARNING)
    answer = rawhttp.send(
        live.url,
        "PUT",
        "/remote.php/dav/files/alice/c.txt",
        {"Transfer-Encoding": "chunked"},
        b"zz\r\nabc\r\n0\r\n\r\n",
    )
    assert answer.status == 400
    assert alice.get(f"{live.dav()}/c.txt").content == b"old"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not list((live.settings.state_dir / "uploads").glob("*.put"))


def test_modification_times_out_of_range_are_refused(live, alice):
    url = f"{live.dav()}/t.txt"
    alice.put(url, data=b"x", headers={"X-OC-Mtime": "1500000000"})
    assert (
        alice.put(url, data=b"y", headers={"X-OC-Mtime": "99999999999"}).status_code
        == 400
    )
    assert alice.get(url).content == b"x"
    body = PROPPATCH.format(
        props='<z:Win32LastModifiedTime xmlns:z="urn:schemas-microsoft-com:">'
        "Mon, 01 Jan 3000 00:00:00 GMT</z:Win32LastModifiedTime>"
    )
    answer = alice.request("PROPPATCH", url, data=body)
    assert answer.status_code == 207
    assert b"400" in answer.content and b"500" not in answer.content
    assert os.stat(live.user_root() / "t.txt").st_mtime == 1500000000


def test_dead_properties_per_item_are_bounded(live, alice):
    url = f"{live.dav()}/p.txt"
    alice.put(url, data=b"x")
    many = "".join(f"<x:p{n}>v</x:p{n}>" for n in range(300))
    answer = alice.request("PROPPATCH", url, data=PROPPATCH.format(props=many))
    assert answer.status_code == 207
    assert b"507" in answer.content
    found = alice.request(
        "PROPFIND",
        url,
        headers={"Depth": "0"},
        data='<d:propfind xmlns:d="DAV:"><d:prop><x:p1 xmlns:x="urn:x"/></d:prop>'
        "</d:propfind>",
    )
    assert b"404" in found.content  # nothing of the refused update was stored
    big = f"<x:big>{'v' * 300_000}</x:big>"
    answer = alice.request("PROPPATCH", url, data=PROPPATCH.format(props=big))
    assert b"507" in answer.content


def test_range_requests_follow_the_http_rules(live, alice):
    url = f"{live.dav()}/r.txt"
    alice.put(url, data=b"0123456789")
    one = alice.get(url, headers={"Range": "bytes=2-4"})
    assert (one.status_code, one.content) == (206, b"234")
    assert alice.get(url, headers={"Range": "bytes=-3"}).content == b"789"
    for ignored in ("bytes=5-2", "bytes=0-1,3-4", "items=1-2", "bytes=x"):
        whole = alice.get(url, headers={"Range": ignored})
        assert (whole.status_code, whole.content) == (200, b"0123456789"), ignored
    assert alice.get(url, headers={"Range": "bytes=-0"}).status_code == 416
    assert alice.get(url, headers={"Range": "bytes=20-"}).status_code == 416


def test_user_names_differing_only_in_case_are_one_name(live):
    import pytest

    from app import users
    from app.errors import Conflict

    with pytest.raises(Conflict):
        users.add(live.settings.storage_dir, "ALICE", "another password")


def test_move_and_copy_across_url_layouts_of_the_same_space(live, alice):
    alice.put(f"{live.url}/remote.php/webdav/x.txt", data=b"across")
    moved = alice.request(
        "MOVE",
        f"{live.url}/remote.php/webdav/x.txt",
        headers={"Destination": f"{live.url}/remote.php/dav/files/alice/y.txt"},
    )
    assert moved.status_code == 201
    assert (live.user_root() / "y.txt").read_bytes() == b"across"
    copied = alice.request(
        "COPY",
        f"{live.dav()}/y.txt",
        headers={"Destination": f"{live.url}/dav/files/alice/z.txt"},
    )
    assert copied.status_code == 201
    assert (live.user_root() / "z.txt").read_bytes() == b"across"
    live.add_user("bob")
    stolen = alice.request(
        "MOVE",
        f"{live.url}/remote.php/webdav/z.txt",
        headers={"Destination": f"{live.url}/remote.php/dav/files/bob/z.txt"},
    )
    assert stolen.status_code in (403, 409, 502)
    assert (live.user_root() / "z.txt").exists()
    assert not (live.user_root("bob") / "z.txt").exists()


ROOT_URLS = [
    "/remote.php/dav/files/",
    "/dav/files/",
    "/dav/spaces/",
    "/remote.php/webdav/",
    "/webdav/",
]


@pytest.mark.parametrize("method", ["PUT", "MKCOL", "MOVE", "COPY", "DELETE"])
def test_writes_to_the_mount_roots_are_refused_not_500(live, alice, method) -> None:
    """WsgiDAV asks the provider for the parent of a mount point's root, which
    has none: a clear refusal, never a 500."""
    destination = f"{live.dav()}/copy-target"
    for url in ROOT_URLS:
        answer = alice.request(
            method, live.url + url, data=b"x", headers={"Destination": destination}
        )
        assert 400 <= answer.status_code < 500, (method, url, answer.text)
    moved = alice.request(
        "MOVE",
        f"{live.dav()}/",
        headers={"Destination": f"{live.url}/remote.php/dav/files/"},
    )
    assert 400 <= moved.status_code < 500, moved.text
    assert not (live.user_root() / "copy-target").exists()
