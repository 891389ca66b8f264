"""Shared fixtures: a data folder, settings, a live Grove on a loopback port, users."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cheroot import wsgi

from app import users
from app.config import Settings, load_settings
from app.factory import create_app

PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_settings(data: Path, **overrides: Any) -> Settings:
    values = {"data": data, "admin_password": "admin-password-1", **overrides}
    return load_settings(environ={}, overrides=values)


@dataclass
class LiveServer:
    url: str
    settings: Settings
    app: Any

    def dav(self, user: str = "alice") -> str:
        return f"{self.url}/remote.php/dav/files/{user}"

    def session(
        self, user: str = "alice", password: str = PASSWORD
    ) -> requests.Session:
        session = requests.Session()
        session.auth = (user, password)
        return session

    def drive_id(self, session: requests.Session, user: str = "alice") -> str:
        """The drive id (``<storage>$<space>``) of ``user``'s personal space."""
        from lxml import etree

        body = (
            '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" '
            'xmlns:oc="http://owncloud.org/ns"><d:prop><oc:id/></d:prop></d:propfind>'
        )
        answer = session.request(
            "PROPFIND", f"{self.dav(user)}/", data=body, headers={"Depth": "0"}
        )
        found = etree.fromstring(answer.content).find(".//{http://owncloud.org/ns}id")
        return str(found.text).rpartition("!")[0]

    def add_user(self, name: str, password: str = PASSWORD) -> None:
        users.add(self.settings.storage_dir, name, password)

    def user_root(self, name: str = "alice") -> Path:
        return self.settings.storage_dir / "users" / name


def start_server(settings: Settings) -> tuple[wsgi.Server, LiveServer]:
    port = free_port()
    app = create_app(settings)
    server = wsgi.Server(("127.0.0.1", port), app, numthreads=8, timeout=30)
    server.max_request_header_size = settings.max_header_bytes
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    return server, LiveServer(f"http://127.0.0.1:{port}", settings, app)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveServer]:
    """A running Grove with user ``alice`` (password ``PASSWORD``)."""
    server, live = start_server(settings)
    live.add_user("alice")
    try:
        yield live
    finally:
        server.stop()


@pytest.fixture
def alice(live: LiveServer) -> requests.Session:
    return live.session("alice")
