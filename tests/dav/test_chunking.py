"""Chunked upload NG (/remote.php/dav/uploads) as Nextcloud clients use it."""

from __future__ import annotations

import hashlib
import os

from lxml import etree

from app.models import UploadSession

NS = {"d": "DAV:"}


def uploads(live, user="alice"):
    return f"{live.url}/remote.php/dav/uploads/{user}"


def staging(live):
    return [p for p in (live.settings.state_dir / "uploads").iterdir() if p.is_dir()]


def send_chunks(alice, folder, payload, size, *, v2=False, headers=None):
    for index, start in enumerate(range(0, len(payload), size), start=1):
        name = str(index) if v2 else f"{start:016d}"
        answer = alice.put(
            f"{folder}/{name}",
            data=payload[start : start + size],
            headers=headers or {},
        )
        assert answer.status_code == 201, answer.text


def test_chunks_then_move_make_the_file(live, alice):
    payload = os.urandom(300_000)
    folder = f"{uploads(live)}/transfer-1"
    answer = alice.request(
        "MKCOL", folder, headers={"OC-Total-Length": str(len(payload))}
    )
    assert answer.status_code == 201, answer.text
    send_chunks(alice, folder, payload, 100_000)
    assert not (live.user_root() / "big.bin").exists()
    answer = alice.request(
        "MOVE",
        f"{folder}/.file",
        headers={
            "Destination": f"{live.dav()}/big.bin",
            "OC-Total-Length": str(len(payload)),
            "OC-Checksum": "SHA1:" + hashlib.sha1(payload).hexdigest(),
            "X-OC-Mtime": "1700000000",
        },
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["OC-FileId"]
    assert answer.headers["ETag"] == answer.headers["OC-ETag"]
    assert answer.headers["X-OC-Mtime"] == "accepted"
    assert (live.user_root() / "big.bin").read_bytes() == payload
    assert int((live.user_root() / "big.bin").stat().st_mtime) == 1700000000
    assert alice.get(f"{live.dav()}/big.bin").content == payload
    # Finished: the chunks and the session are gone.
    assert staging(live) == []
    assert UploadSession.select().count() == 0
    listing = alice.request("PROPFIND", f"{live.dav()}/big.bin", headers={"Depth": "0"})
    etag = etree.fromstring(listing.content).findtext(".//d:getetag", namespaces=NS)
    assert etag == answer.headers["ETag"]


def test_v2_with_destination_replaces_with_if_header(live, alice):
    alice.put(f"{live.dav()}/doc.txt", data=b"old")
    etag = alice.head(f"{live.dav()}/doc.txt").headers["ETag"]
    payload = os.urandom(50_000)
    folder = f"{uploads(live)}/v2-upload"
    dest = {"Destination": f"{live.dav()}/doc.txt"}
    assert alice.request("MKCOL", folder, headers=dest).status_code == 201
    send_chunks(alice, folder, payload, 20_000, v2=True, headers=dest)
    path = "/remote.php/dav/files/alice/doc.txt"
    stale = alice.request(
        "MOVE", f"{folder}/.file", headers={**dest, "If": f'<{path}> (["nope"])'}
    )
    assert stale.status_code == 412
    assert (live.user_root() / "doc.txt").read_bytes() == b"old"
    done = alice.request(
        "MOVE", f"{folder}/.file", headers={**dest, "If": f"<{path}> ([{etag}])"}
    )
    assert done.status_code == 204, done.text
    assert (live.user_root() / "doc.txt").read_bytes() == payload


def test_wrong_total_length_is_400_and_nothing_committed(live, alice):
    payload = os.urandom(30_000)
    folder = f"{uploads(live)}/short"
    assert alice.request("MKCOL", folder).status_code == 201
    send_chunks(alice, folder, payload, 10_000)
    answer = alice.request(
        "MOVE",
        f"{folder}/.file",
        headers={
            "Destination": f"{live.dav()}/short.bin",
            "OC-Total-Length": str(len(payload) + 1),
        },
    )
    assert answer.status_code == 400
    assert not (live.user_root() / "short.bin").exists()
    assert alice.get(f"{live.dav()}/short.bin").status_code == 404
    assert not list((live.settings.state_dir / "uploads").glob("*.put"))


def test_checksum_mismatch_commits_nothing(live, alice):
    folder = f"{uploads(live)}/bad-sum"
    assert alice.request("MKCOL", folder).status_code == 201
    send_chunks(alice, folder, b"x" * 1000, 500)
    answer = alice.request(
        "MOVE",
        f"{folder}/.file",
        headers={
            "Destination": f"{live.dav()}/s.bin",
            "OC-Checksum": "SHA1:" + "0" * 40,
        },
    )
    assert answer.status_code == 400
    assert not (live.user_root() / "s.bin").exists()


def test_propfind_lists_chunks_for_resuming(live, alice):
    folder = f"{uploads(live)}/resume"
    assert alice.request("MKCOL", folder).status_code == 201
    send_chunks(alice, folder, b"a" * 2500, 1000)
    answer = alice.request("PROPFIND", folder, headers={"Depth": "1"})
    assert answer.status_code == 207
    tree = etree.fromstring(answer.content)
    sizes = {
        r.findtext("d:href", namespaces=NS).rsplit("/", 1)[1]: r.findtext(
            ".//d:getcontentlength", namespaces=NS
        )
        for r in tree.findall("d:response", NS)
    }
    assert sizes == {
        "": None,
        "0000000000000000": "1000",
        "0000000000001000": "1000",
        "0000000000002000": "500",
    }


def test_aborted_upload_leaves_nothing(live, alice):
    folder = f"{uploads(live)}/abort-me"
    assert alice.request("MKCOL", folder).status_code == 201
    send_chunks(alice, folder, b"z" * 3000, 1000)
    assert alice.delete(folder).status_code == 204
    assert staging(live) == []
    assert UploadSession.select().count() == 0
    assert alice.request("PROPFIND", folder).status_code == 404
    gone = alice.request(
        "MOVE", f"{folder}/.file", headers={"Destination": f"{live.dav()}/z.bin"}
    )
    assert gone.status_code == 404
    assert not (live.user_root() / "z.bin").exists()


def test_other_users_upload_folders_are_out_of_reach(live, alice):
    live.add_user("bob")
    bob = live.session("bob")
    assert alice.request("MKCOL", f"{uploads(live)}/mine").status_code == 201
    assert bob.request("MKCOL", f"{uploads(live, 'alice')}/x").status_code == 404
    assert bob.put(f"{uploads(live, 'alice')}/mine/1", data=b"x").status_code == 404
    assert bob.request("PROPFIND", f"{uploads(live, 'alice')}/mine").status_code == 404


def test_destination_needs_permission(live, alice):
    live.add_user("bob")
    folder = f"{uploads(live)}/sneaky"
    assert alice.request("MKCOL", folder).status_code == 201
    send_chunks(alice, folder, b"q" * 10, 10)
    answer = alice.request(
        "MOVE",
        f"{folder}/.file",
        headers={"Destination": f"{live.url}/remote.php/dav/files/bob/evil.txt"},
    )
    assert answer.status_code in (403, 404, 409)
    assert not (live.user_root("bob") / "evil.txt").exists()
