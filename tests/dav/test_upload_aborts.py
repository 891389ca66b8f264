"""An upload cut off mid-way, at each door: nothing visible, staging cleaned."""

from __future__ import annotations

import base64
import socket
import time
from urllib.parse import urlsplit

import requests

from tests.dav.rawhttp import auth_header

TUS = {"Tus-Resumable": "1.0.0"}


def cut_off(url: str, method: str, headers: dict[str, str], sent: bytes, total: int):
    """Announce ``total`` bytes, send ``sent``, then hang up."""
    parts = urlsplit(url)
    head = f"{method} {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
    head += f"Authorization: {auth_header()}\r\nContent-Length: {total}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head.encode() + b"\r\n" + sent)
        time.sleep(0.2)
        sock.shutdown(socket.SHUT_RDWR)


def staged(live) -> list[str]:
    """Every file in staging, upload folders included (lock files aside)."""
    root = live.settings.state_dir / "uploads"
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and path.name != ".lock"
    )


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_put_cut_off(live, alice):
    cut_off(f"{live.dav()}/put.bin", "PUT", {}, b"x" * 1000, 100_000)
    wait_for(lambda: staged(live) == [])
    assert alice.get(f"{live.dav()}/put.bin").status_code == 404
    assert not (live.user_root() / "put.bin").exists()


def test_chunk_put_cut_off_then_cancelled(live, alice):
    folder = f"{live.url}/remote.php/dav/uploads/alice/cut"
    assert alice.request("MKCOL", folder).status_code == 201
    assert alice.put(f"{folder}/1", data=b"a" * 500).status_code == 201
    cut_off(f"{folder}/2", "PUT", {}, b"b" * 1000, 100_000)
    # The cut chunk is not stored, not even in part.
    wait_for(lambda: not any(".part" in name for name in staged(live)))
    listing = alice.request("PROPFIND", folder, headers={"Depth": "1"})
    assert b"/cut/2<" not in listing.content
    assert alice.delete(folder).status_code == 204
    assert staged(live) == []
    assert list(live.user_root().iterdir()) == []


def test_tus_patch_cut_off_resumes_or_is_terminated(live, alice):
    meta = "filename " + base64.b64encode(b"t.bin").decode()
    created = alice.post(
        f"{live.dav()}/",
        headers={**TUS, "Upload-Length": "50000", "Upload-Metadata": meta},
    )
    location = created.headers["Location"]
    cut_off(
        location,
        "PATCH",
        {
            **TUS,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
        b"c" * 2000,
        50_000,
    )

    def offset() -> int:
        head = requests.head(location, headers=TUS, timeout=10)
        return int(head.headers["Upload-Offset"])

    wait_for(lambda: offset() == 2000)
    assert not (live.user_root() / "t.bin").exists()
    assert alice.get(f"{live.dav()}/t.bin").status_code == 404
    assert requests.delete(location, headers=TUS, timeout=10).status_code == 204
    assert staged(live) == []
    assert list(live.user_root().iterdir()) == []
