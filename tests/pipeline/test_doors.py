"""Every door runs the same pipeline: WebDAV PUT, chunked upload NG and TUS.

Each test sends the same content through each door and expects the same
verdict: EICAR refused by a real clamd, a blocked extension refused, the MIME
type detected and stored, the quota checked (at creation when the length is
announced, else at the commit), and nothing left in the tree or in staging.
"""

from __future__ import annotations

import base64
import time

import pytest
import requests
from lxml import etree

from app.models import AuditEvent, Node, UploadSession
from app.storage.ids import read_id
from tests.conftest import make_settings
from tests.dav import rawhttp
from tests.pipeline.daemons import EICAR

DOORS = ("put", "chunked", "tus")
NS = {"d": "DAV:", "oc": "http://owncloud.org/ns"}
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET = "application/offset+octet-stream"
INFECTED = b"minutes\n" + EICAR + b"\n"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n" + b"%" * 3000


@pytest.fixture
def settings(tmp_path, request):
    marker = request.node.get_closest_marker("grove")
    overrides = dict(marker.kwargs) if marker else {}
    if overrides.get("scanner") == "clamd":
        overrides["clamd_address"] = str(request.getfixturevalue("clamd").socket)
    return make_settings(tmp_path / "data", **overrides)


def _metadata(name: str) -> str:
    return "filename " + base64.b64encode(name.encode()).decode()


def upload(live, session, door: str, name: str, data: bytes, *, announce=True):
    """Send ``data`` as ``name`` through ``door``; the first answer that is not
    a step on the way (the refusal, or the one that completes the upload).

    ``announce``: say the target and length up front (PUT: Content-Length;
    chunked: chunking v2's MKCOL with Destination and OC-Total-Length).
    """
    target = f"{live.dav()}/{name}"
    if door == "put":
        if announce:
            return session.put(target, data=data)
        return session.put(target, data=iter([data]))  # chunked coding: no length
    if door == "chunked":
        folder = f"{live.url}/remote.php/dav/uploads/alice/t-{time.monotonic_ns()}"
        headers = {"Destination": target, "OC-Total-Length": str(len(data))}
        made = session.request("MKCOL", folder, headers=headers if announce else {})
        if made.status_code != 201:
            return made
        half = len(data) // 2
        for index, part in enumerate((data[:half], data[half:]), start=1):
            sent = session.put(f"{folder}/{index}", data=part)
            assert sent.status_code == 201, sent.text
        return session.request("MOVE", f"{folder}/.file", headers=headers)
    created = session.post(
        f"{live.dav()}/",
        headers={
            **TUS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": _metadata(name),
        },
    )
    if created.status_code != 201:
        return created
    half = len(data) // 2
    for offset, part in ((0, data[:half]), (half, data[half:])):
        answer = requests.patch(
            created.headers["Location"],
            data=part,
            headers={**TUS, "Upload-Offset": str(offset), "Content-Type": OFFSET},
            timeout=30,
        )
        if answer.status_code != 204 or offset:
            return answer
    raise AssertionError("unreachable")


def staged(live) -> list[str]:
    """Files and upload folders left in staging (lock files aside)."""
    root = live.settings.state_dir / "uploads"
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.name != ".lock" and (path.is_file() or path.parent == root)
    )


def refusals(since: float) -> list[AuditEvent]:
    return list(
        AuditEvent.select()
        .where(
            (AuditEvent.action == "file_create")
            & (AuditEvent.outcome == "refused")
            & (AuditEvent.time >= since)
        )
        .order_by(AuditEvent.id)
    )


def error_code(answer) -> str | None:
    if not answer.headers.get("Content-Type", "").startswith("application/xml"):
        return None
    return etree.fromstring(answer.content).findtext("oc:errorcode", None, NS)


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.grove(scanner="clamd")
def test_eicar_is_refused_through_every_door(live, alice, door):
    url = f"{live.dav()}/minutes.txt"
    assert alice.put(url, data=b"version one\n").status_code == 201
    node_id = read_id(live.user_root() / "minutes.txt")
    start = time.time()

    answer = upload(live, alice, door, "minutes.txt", INFECTED)

    assert answer.status_code == 403, answer.text
    assert "Eicar-Test-Signature" in answer.text
    assert alice.get(url).content == b"version one\n"
    assert read_id(live.user_root() / "minutes.txt") == node_id
    # The refused content is gone from staging, session and all.
    assert staged(live) == []
    assert UploadSession.select().count() == 0
    [refusal] = refusals(start)
    assert refusal.detail.startswith(f"{door}: virusFound")
    assert refusal.actor == "alice"


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.grove(scanner="clamd")
def test_clean_content_passes_the_scanner_through_every_door(live, alice, door):
    payload = b"clean minutes\n" * 500
    answer = upload(live, alice, door, "clean.txt", payload)
    assert answer.status_code in (201, 204), answer.text
    assert (live.user_root() / "clean.txt").read_bytes() == payload
    assert staged(live) == []


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.grove(upload_blocked_extensions="exe")
def test_a_blocked_extension_is_refused_at_creation_by_every_door(live, alice, door):
    start = time.time()
    answer = upload(live, alice, door, "setup.exe", b"MZ" + b"\x00" * 100)
    assert answer.status_code == 403
    assert error_code(answer) == "blockedExtension"
    assert not (live.user_root() / "setup.exe").exists()
    assert staged(live) == []
    [refusal] = refusals(start)
    assert refusal.detail.startswith(f"{door}: blockedExtension")


@pytest.mark.grove(upload_blocked_extensions="exe")
def test_a_chunked_upload_without_destination_is_refused_at_the_move(live, alice):
    answer = upload(live, alice, "chunked", "setup.exe", b"MZ" * 50, announce=False)
    assert answer.status_code == 403
    assert error_code(answer) == "blockedExtension"
    assert not (live.user_root() / "setup.exe").exists()
    assert staged(live) == []


@pytest.mark.parametrize("door", DOORS)
def test_the_mime_type_is_detected_and_stored_through_every_door(live, alice, door):
    answer = upload(live, alice, door, "photo.jpg", PDF)
    assert answer.status_code in (201, 204), answer.text
    row = Node.get(Node.id == read_id(live.user_root() / "photo.jpg"))
    assert row.mime == "application/pdf"
    got = alice.get(f"{live.dav()}/photo.jpg")
    assert got.headers["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.grove(quota_default=1000)
def test_quota_is_checked_at_creation_when_the_length_is_known(live, alice, door):
    assert alice.put(f"{live.dav()}/a.bin", data=b"a" * 600).status_code == 201
    if door == "put":
        # Headers only: the answer comes before any byte of the body.
        answer = rawhttp.send(
            live.url,
            "PUT",
            "/remote.php/dav/files/alice/big.bin",
            length=500,
            head_only=True,
            timeout=5,
        )
        assert answer.status == 507
    else:
        answer = upload(live, alice, door, "big.bin", b"b" * 500)
        assert answer.status_code == 507
    assert not (live.user_root() / "big.bin").exists()
    assert UploadSession.select().count() == 0
    assert staged(live) == []


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.grove(quota_default=1000)
def test_quota_is_checked_again_at_the_commit(live, alice, door):
    if door == "tus":
        # TUS announces the length; the space fills while the bytes arrive.
        created = alice.post(
            f"{live.dav()}/",
            headers={**TUS, "Upload-Length": "500", "Upload-Metadata": _metadata("b")},
        )
        assert created.status_code == 201
        assert alice.put(f"{live.dav()}/a.bin", data=b"a" * 600).status_code == 201
        answer = requests.patch(
            created.headers["Location"],
            data=b"b" * 500,
            headers={**TUS, "Upload-Offset": "0", "Content-Type": OFFSET},
            timeout=30,
        )
    else:
        assert alice.put(f"{live.dav()}/a.bin", data=b"a" * 600).status_code == 201
        answer = upload(live, alice, door, "b", b"b" * 500, announce=False)
    assert answer.status_code == 507, answer.text
    assert not (live.user_root() / "b").exists()
    assert alice.get(f"{live.dav()}/a.bin").content == b"a" * 600
