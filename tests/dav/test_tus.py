"""TUS 1.0.0 uploads: creation on any layout, PATCH by offset, resume, restart."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from email.utils import parsedate_to_datetime

import requests

from app import db, jobs
from app.models import UploadSession
from tests.conftest import start_server
from tests.dav.test_upload_aborts import cut_off, wait_for

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET = "application/offset+octet-stream"


def metadata(**values: str) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in values.items()
    )


def create(session, url, length, **meta):
    answer = session.post(
        url,
        headers={
            **TUS,
            "Upload-Length": str(length),
            "Upload-Metadata": metadata(**meta),
        },
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["Tus-Resumable"] == "1.0.0"
    assert answer.headers["Upload-Expires"]
    return answer.headers["Location"]


def patch(location, offset, body, session=None, **headers):
    return (session or requests).patch(
        location,
        data=body,
        headers={
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": OFFSET,
            **headers,
        },
        timeout=30,
    )


def offset(location: str) -> int:
    head = requests.head(location, headers=TUS, timeout=10)
    assert head.status_code == 200, head.text
    return int(head.headers["Upload-Offset"])


def sessions_dirs(live):
    return [p for p in (live.settings.state_dir / "uploads").iterdir() if p.is_dir()]


def test_options_advertise_tus(live, alice):
    answer = alice.options(f"{live.dav()}/")
    assert answer.headers["Tus-Version"] == "1.0.0"
    assert "creation-with-upload" in answer.headers["Tus-Extension"]
    assert "sha1" in answer.headers["Tus-Checksum-Algorithm"]


def test_create_patch_in_parts_then_the_file_is_there(live, alice):
    payload = os.urandom(250_000)
    alice.request("MKCOL", f"{live.dav()}/docs")
    location = create(
        alice,
        f"{live.dav()}/docs",
        len(payload),
        filename="report.bin",
        mtime="1700000000",
        checksum="SHA1 " + hashlib.sha1(payload).hexdigest(),
    )
    assert "/data/" in location
    first = patch(location, 0, payload[:100_000])
    assert first.status_code == 204
    assert first.headers["Upload-Offset"] == "100000"
    assert not (live.user_root() / "docs" / "report.bin").exists()
    head = requests.head(location, headers=TUS, timeout=10)
    assert head.headers["Upload-Offset"] == "100000"
    assert head.headers["Upload-Length"] == str(len(payload))
    last = patch(location, 100_000, payload[100_000:])
    assert last.status_code == 204, last.text
    assert last.headers["Upload-Offset"] == str(len(payload))
    assert last.headers["OC-FileId"]
    assert last.headers["ETag"] == last.headers["OC-ETag"]
    assert last.headers["OC-Perm"]
    stored = live.user_root() / "docs" / "report.bin"
    assert stored.read_bytes() == payload
    assert int(stored.stat().st_mtime) == 1700000000
    assert alice.get(f"{live.dav()}/docs/report.bin").content == payload
    # Done: the token is spent, nothing stays in staging.
    assert requests.head(location, headers=TUS, timeout=10).status_code == 404
    assert sessions_dirs(live) == []


def test_creation_with_upload_on_every_layout(live, alice):
    drive = live.drive_id(alice)
    for index, url in enumerate(
        (
            f"{live.url}/remote.php/webdav/",
            f"{live.url}/remote.php/dav/files/alice/",
            f"{live.url}/dav/spaces/{drive}/",
        )
    ):
        body = f"hello {index}".encode()
        answer = alice.post(
            url,
            data=body,
            headers={
                **TUS,
                "Upload-Length": str(len(body)),
                "Upload-Metadata": metadata(filename=f"f{index}.txt"),
                "Content-Type": OFFSET,
            },
        )
        assert answer.status_code == 201, answer.text
        assert answer.headers["Upload-Offset"] == str(len(body))
        assert answer.headers["OC-FileId"]
        assert (live.user_root() / f"f{index}.txt").read_bytes() == body


def test_wrong_offset_is_409(live, alice):
    location = create(alice, f"{live.dav()}/", 10, filename="x.bin")
    assert patch(location, 0, b"12345").status_code == 204
    answer = patch(location, 3, b"45678")
    assert answer.status_code == 409
    assert (
        requests.head(location, headers=TUS, timeout=10).headers["Upload-Offset"] == "5"
    )


def test_checksum_per_patch_460_keeps_nothing_of_it(live, alice):
    location = create(alice, f"{live.dav()}/", 10, filename="c.bin")
    good = base64.b64encode(hashlib.sha1(b"12345").digest()).decode()
    bad = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    assert patch(location, 0, b"12345", **{"Upload-Checksum": f"sha1 {good}"}).ok
    refused = patch(location, 5, b"67890", **{"Upload-Checksum": f"sha1 {bad}"})
    assert refused.status_code == 460
    assert (
        requests.head(location, headers=TUS, timeout=10).headers["Upload-Offset"] == "5"
    )
    md5 = base64.b64encode(hashlib.md5(b"67890").digest()).decode()
    done = patch(location, 5, b"67890", **{"Upload-Checksum": f"md5 {md5}"})
    assert done.status_code == 204
    assert (live.user_root() / "c.bin").read_bytes() == b"1234567890"


def test_termination_leaves_nothing(live, alice):
    location = create(alice, f"{live.dav()}/", 100, filename="gone.bin")
    assert patch(location, 0, b"x" * 40).status_code == 204
    assert requests.delete(location, headers=TUS, timeout=10).status_code == 204
    assert patch(location, 40, b"y" * 60).status_code == 404
    assert not (live.user_root() / "gone.bin").exists()
    assert sessions_dirs(live) == []
    assert UploadSession.select().count() == 0


def test_creation_needs_permission_and_another_user_cannot_use_the_token(live, alice):
    live.add_user("bob")
    bob = live.session("bob")
    refused = bob.post(
        f"{live.dav('alice')}/",
        headers={
            **TUS,
            "Upload-Length": "3",
            "Upload-Metadata": metadata(filename="b"),
        },
    )
    assert refused.status_code in (403, 404)
    location = create(alice, f"{live.dav()}/", 3, filename="mine.txt")
    assert patch(location, 0, b"abc", session=bob).status_code == 404
    assert not (live.user_root() / "mine.txt").exists()
    assert patch(location, 0, b"abc", session=alice).status_code == 204
    assert (live.user_root() / "mine.txt").read_bytes() == b"abc"


def test_if_match_at_creation_holds_at_commit(live, alice):
    alice.put(f"{live.dav()}/v.txt", data=b"one")
    etag = alice.head(f"{live.dav()}/v.txt").headers["ETag"]
    answer = alice.post(
        f"{live.dav()}/",
        headers={
            **TUS,
            "Upload-Length": "3",
            "Upload-Metadata": metadata(filename="v.txt"),
            "If-Match": etag,
        },
    )
    location = answer.headers["Location"]
    alice.put(f"{live.dav()}/v.txt", data=b"two")  # someone else wins meanwhile
    assert patch(location, 0, b"new").status_code == 412
    assert (live.user_root() / "v.txt").read_bytes() == b"two"


def test_an_interrupted_upload_resumes_after_a_restart(settings):
    server, live = start_server(settings)
    live.add_user("alice")
    payload = os.urandom(64_000)
    try:
        location = create(
            live.session(), f"{live.dav()}/", len(payload), filename="r.bin"
        )
        assert patch(location, 0, payload[:10_000]).status_code == 204
        # The next PATCH breaks off after 20,000 of its 54,000 bytes.
        headers = {**TUS, "Upload-Offset": "10000", "Content-Type": OFFSET}
        cut_off(location, "PATCH", headers, payload[10_000:30_000], 54_000)
        wait_for(lambda: offset(location) == 30_000)
    finally:
        server.stop()
    server, again = start_server(settings)
    try:
        # The new server has another port: the path of the location still works.
        moved = f"{again.url}/data/{location.split('/data/', 1)[1]}"
        assert offset(moved) == 30_000
        assert patch(moved, 0, payload).status_code == 409
        assert patch(moved, 30_000, payload[30_000:]).status_code == 204
        assert (again.user_root() / "r.bin").read_bytes() == payload
    finally:
        server.stop()


def test_expired_uploads_are_refused_then_removed_by_the_periodic_job(live, alice):
    location = create(alice, f"{live.dav()}/", 100, filename="late.bin")
    assert patch(location, 0, b"x" * 40).status_code == 204
    chunked = f"{live.url}/remote.php/dav/uploads/alice/late"
    assert alice.request("MKCOL", chunked).status_code == 201
    assert alice.put(f"{chunked}/1", data=b"y" * 40).status_code == 201
    expires = parsedate_to_datetime(
        requests.head(location, headers=TUS, timeout=10).headers["Upload-Expires"]
    )
    assert 23 * 3600 < expires.timestamp() - time.time() <= 24 * 3600
    fresh = create(alice, f"{live.dav()}/", 10, filename="fresh.bin")

    # A day without activity passes for the first two.
    with db.write():
        UploadSession.update(expires=time.time() - 1).where(
            UploadSession.path != "fresh.bin"
        ).execute()
    assert requests.head(location, headers=TUS, timeout=10).status_code == 404
    assert patch(location, 40, b"x" * 60).status_code == 404
    assert alice.put(f"{chunked}/2", data=b"y").status_code == 404
    assert len(sessions_dirs(live)) == 3

    jobs.run_periodic_now()

    assert [s.path for s in UploadSession.select()] == ["fresh.bin"]
    assert len(sessions_dirs(live)) == 1
    assert patch(fresh, 0, b"z" * 10).status_code == 204
    assert sessions_dirs(live) == []
    assert not (live.user_root() / "late.bin").exists()
