"""HTTPS from `grove serve`, HSTS, and X-Forwarded-* believed only from
trusted proxies."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
import requests

from app import users
from app.models import AuditEvent
from app.server import build_server
from tests.app.processes import grove
from tests.conftest import PASSWORD, free_port, make_settings


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_serve_over_tls_with_hsts_and_secure_cookie(tmp_path):
    cert, key = self_signed(tmp_path)
    port = free_port()
    settings = make_settings(
        tmp_path / "data",
        bind=f"127.0.0.1:{port}",
        tls_cert=str(cert),
        tls_key=str(key),
    )
    server = build_server(settings)
    server.prepare()
    threading.Thread(target=server.serve, daemon=True).start()
    try:
        users.add(settings.storage_dir, "alice", PASSWORD)
        url = f"https://127.0.0.1:{port}"
        answer = requests.request(
            "PROPFIND",
            f"{url}/remote.php/dav/files/alice/",
            auth=("alice", PASSWORD),
            headers={"Depth": "0"},
            verify=str(cert),
            timeout=10,
        )
        assert answer.status_code == 207
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")

        signed_in = requests.post(
            f"{url}/signin",
            json={"username": "alice", "password": PASSWORD},
            verify=str(cert),
            timeout=10,
        )
        assert signed_in.status_code == 204
        assert "Secure" in signed_in.headers["Set-Cookie"]
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    finally:
        server.stop()


def test_missing_tls_file_is_a_clear_error(tmp_path):
    result = grove(
        "serve", "--data", tmp_path / "d", "--bind", f"127.0.0.1:{free_port()}",
        "--tls-cert", tmp_path / "none.pem", "--tls-key", tmp_path / "none.key",
    )  # fmt: skip
    assert result.returncode == 1
    assert "cannot read TLS file" in result.stderr
    assert "Traceback" not in result.stderr


def _fail_from(live, headers: dict[str, str]) -> None:
    requests.request(
        "PROPFIND",
        live.dav() + "/",
        auth=("alice", "wrong password"),
        headers=headers,
        timeout=10,
    )


FORWARDED = {
    "X-Forwarded-For": "198.51.100.7, 203.0.113.9",
    "X-Forwarded-Proto": "https",
}


def _last_failure_address() -> str:
    event = (
        AuditEvent.select()
        .where(AuditEvent.outcome == "failed")
        .order_by(AuditEvent.id.desc())
        .get()
    )
    return str(event.address)


def test_forwarded_headers_are_ignored_from_untrusted_addresses(live):
    _fail_from(live, FORWARDED)
    assert _last_failure_address() == "127.0.0.1"
    answer = requests.get(f"{live.url}/healthz", headers=FORWARDED, timeout=10)
    assert "Strict-Transport-Security" not in answer.headers


@pytest.fixture
def settings(tmp_path, request):
    proxies = getattr(request, "param", "")
    return make_settings(tmp_path / "data", trusted_proxies=proxies)


@pytest.mark.parametrize("settings", ["127.0.0.1/32, 203.0.113.0/24"], indirect=True)
def test_forwarded_headers_count_from_a_trusted_proxy(live):
    _fail_from(live, FORWARDED)
    assert _last_failure_address() == "198.51.100.7"
    answer = requests.post(
        f"{live.url}/signin",
        json={"username": "alice", "password": PASSWORD},
        headers=FORWARDED,
        timeout=10,
    )
    assert "Secure" in answer.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in answer.headers


PREFIXED = {"X-Forwarded-Prefix": "/grove"}


def _hrefs(answer: requests.Response) -> list[str]:
    from lxml import etree

    tree = etree.fromstring(answer.content)
    return [h.text for h in tree.iter("{DAV:}href")]


@pytest.mark.parametrize("settings", ["127.0.0.1/32"], indirect=True)
def test_forwarded_prefix_from_a_trusted_proxy_leads_every_href(live, alice):
    alice.put(f"{live.dav()}/x.txt", data=b"x")
    listing = alice.request(
        "PROPFIND", f"{live.dav()}/", headers={"Depth": "1", **PREFIXED}
    )
    assert _hrefs(listing) and all(
        href.startswith("/grove/remote.php/dav/files/alice/")
        for href in _hrefs(listing)
    )
    moved = alice.request(
        "MOVE",
        f"{live.dav()}/x.txt",
        headers={
            "Destination": f"{live.url}/grove/remote.php/dav/files/alice/y.txt",
            **PREFIXED,
        },
    )
    assert moved.status_code == 201
    assert (live.user_root() / "y.txt").read_bytes() == b"x"


def test_forwarded_prefix_is_ignored_from_untrusted_addresses(live, alice):
    listing = alice.request(
        "PROPFIND", f"{live.dav()}/", headers={"Depth": "1", **PREFIXED}
    )
    assert all(href.startswith("/remote.php/") for href in _hrefs(listing))


@pytest.mark.parametrize("settings", ["127.0.0.1/32"], indirect=True)
def test_tagged_if_with_the_forwarded_prefix_unlocks(live, alice):
    url = f"{live.dav()}/l.txt"
    alice.put(url, data=b"1")
    body = (
        '<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/>'
        "</d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>"
    )
    locked = alice.request("LOCK", url, data=body, headers=PREFIXED)
    assert b"/grove/remote.php/dav/files/alice/l.txt" in locked.content
    token = locked.headers["Lock-Token"]
    tag = f"<{live.url}/grove/remote.php/dav/files/alice/l.txt>"
    answer = alice.put(url, data=b"2", headers={"If": f"{tag} ({token})", **PREFIXED})
    assert answer.status_code == 204
