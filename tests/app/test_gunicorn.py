"""``gunicorn -c config/gunicorn.conf.py wsgi:app`` serves the same Grove."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import requests

from tests.app.processes import gunicorn

ADMIN = ("admin", "admin-password-1")


def test_gunicorn_with_two_workers_serves_webdav(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = tmp_path / "grove.toml"
    config.write_text("propfind_infinity_limit = 1\n")
    with gunicorn(
        data,
        tmp_path / "gunicorn.log",
        GROVE_ADMIN_PASSWORD=ADMIN[1],
        GROVE_CONFIG=str(config),
    ) as server:
        session = requests.Session()
        session.auth = ADMIN
        base = server.dav("admin")

        assert (
            session.put(f"{base}/hello.txt", data=b"hello", timeout=30).status_code
            == 201
        )
        assert session.get(f"{base}/hello.txt", timeout=30).content == b"hello"
        listing = session.request(
            "PROPFIND", f"{base}/", headers={"Depth": "1"}, timeout=30
        )
        assert listing.status_code == 207
        assert b"hello.txt" in listing.content
        session.request("MKCOL", f"{base}/folder", timeout=30)
        infinity = session.request(
            "PROPFIND", f"{base}/", headers={"Depth": "infinity"}, timeout=30
        )
        assert infinity.status_code == 403  # the limit from GROVE_CONFIG
        assert requests.get(f"{server.url}/readyz", timeout=30).status_code == 200

        # gunicorn's default limit_request_line (4094) would answer 414 here.
        segments = [quote(f"{level}" + "森" * 80) for level in range(5)]
        url = base
        for segment in segments:
            url = f"{url}/{segment}"
            assert session.request("MKCOL", url, timeout=30).status_code == 201
        url = f"{url}/{quote('葉' * 80)}.txt"
        request_line = f"PUT {url.removeprefix(server.url)} HTTP/1.1"
        assert len(request_line) > 4094
        assert session.put(url, data=b"deep", timeout=30).status_code == 201
        assert session.get(url, timeout=30).content == b"deep"
        assert session.request("PROPFIND", url, timeout=30).status_code == 207
        log = server.stderr()

    assert (data / "storage" / "users" / "admin" / "hello.txt").read_bytes() == b"hello"
    assert "Booting worker" in log and "Created account" not in log
    assert log.count("database created at schema version") == 1
