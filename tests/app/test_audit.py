"""The audit trail: who did what to which target, from where, and how it ended."""

from __future__ import annotations

import time

import requests

from app import users
from app.models import AuditEvent
from tests.conftest import PASSWORD, LiveServer


def _events_since(start: float) -> list[AuditEvent]:
    query = AuditEvent.select().where(AuditEvent.time >= start).order_by(AuditEvent.id)
    return list(query)


def test_sign_ins_are_audited_once_per_verified_password(live: LiveServer) -> None:
    start = time.time()
    alice = live.session("alice")
    for _ in range(3):
        alice.request("PROPFIND", live.dav(), headers={"Depth": "0"}, timeout=10)
    live.session("alice", "wrong password").request("PROPFIND", live.dav(), timeout=10)
    live.session("mallory", "any password").request("PROPFIND", live.dav(), timeout=10)

    events = [(e.action, e.actor, e.address, e.outcome) for e in _events_since(start)]
    assert events == [
        ("auth.signin", "alice", "127.0.0.1", "ok"),
        ("auth.signin", "alice", "127.0.0.1", "failed"),
        ("auth.signin", "mallory", "127.0.0.1", "failed"),
    ]
    assert all(start <= e.time <= time.time() for e in _events_since(start))


def test_file_changes_are_audited(live: LiveServer, alice: requests.Session) -> None:
    dav = live.dav()
    alice.request("PROPFIND", dav, headers={"Depth": "0"}, timeout=10)
    start = time.time()

    assert alice.request("MKCOL", f"{dav}/docs", timeout=10).status_code == 201
    assert alice.put(f"{dav}/docs/a.txt", data=b"1", timeout=10).status_code == 201
    assert alice.put(f"{dav}/docs/a.txt", data=b"2", timeout=10).status_code == 204
    moved = alice.request(
        "MOVE",
        f"{dav}/docs/a.txt",
        headers={"Destination": f"{dav}/docs/b.txt"},
        timeout=10,
    )
    assert moved.status_code == 201
    copied = alice.request(
        "COPY", f"{dav}/docs/b.txt", headers={"Destination": f"{dav}/c.txt"}, timeout=10
    )
    assert copied.status_code == 201
    assert alice.delete(f"{dav}/c.txt", timeout=10).status_code == 204

    events = _events_since(start)
    assert [e.action for e in events] == [
        "folder.create",
        "file.create",
        "file.update",
        "file.move",
        "file.copy",
        "file.delete",
    ]
    assert {(e.actor, e.address, e.outcome) for e in events} == {
        ("alice", "127.0.0.1", "ok")
    }
    targets = [e.target for e in events]
    assert targets[0].endswith("/docs")
    assert targets[1].endswith("/docs/a.txt") and targets[2] == targets[1]
    source, destination = targets[3].split(" -> ")
    assert source.endswith("/docs/a.txt") and destination.endswith("/docs/b.txt")
    assert "b.txt" in targets[4] and targets[4].endswith("c.txt")
    assert targets[5].endswith("/c.txt")


def test_user_changes_are_audited(live: LiveServer) -> None:
    start = time.time()
    storage, state = live.settings.storage_dir, live.settings.state_dir
    users.add(storage, "bob", PASSWORD, admin=True, actor="admin")
    users.set_password("bob", PASSWORD + "2", actor="admin")
    users.delete(storage, state, "bob", actor="admin")

    events = [(e.action, e.actor, e.target, e.outcome) for e in _events_since(start)]
    assert events == [
        ("user.create", "admin", "bob", "ok"),
        ("user.password", "admin", "bob", "ok"),
        ("user.delete", "admin", "bob", "ok"),
    ]
