"""The audit trail: who did what to which target, from where, and how it ended."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import peewee
import pytest
import requests
from click.testing import CliRunner

from app import audit, db, users
from app.cli_audit import audit_group
from app.instance import Grove
from app.models import AuditEvent
from tests.app.processes import REPO
from tests.conftest import PASSWORD, LiveServer, make_settings


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
        "container_create",
        "file_create",
        "file_update",
        "file_rename",
        "file_copy",
        "file_delete",
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
        ("user_created", "admin", "bob", "ok"),
        ("user_feature_changed", "admin", "bob", "ok"),
        ("user_deleted", "admin", "bob", "ok"),
    ]


# --- the hash chain -------------------------------------------------------------


def _chain(live: LiveServer, count: int) -> list[AuditEvent]:
    for number in range(count):
        audit.record("file_read", actor="alice", target=f"/s/{number}.txt")
    audit.append_queued()
    return list(AuditEvent.select().order_by(AuditEvent.seq))


def _tamper() -> None:
    """Drop the triggers that keep the trail append-only, as someone with the
    database file in hand could: the hash chain must still tell."""
    for name in ("no_delete", "no_edit", "no_rechain"):
        db.database.obj.execute_sql(f"DROP TRIGGER audit_event_{name}")


def _cli(live: LiveServer, *args: str) -> Any:
    return CliRunner().invoke(audit_group, [*args, "--data", str(live.settings.data)])


def test_requests_queue_records_and_the_chainer_appends_them_in_order(
    live: LiveServer, alice: requests.Session
) -> None:
    for number in range(5):
        alice.put(f"{live.dav()}/{number}.txt", data=b"x", timeout=10)
    deadline = time.monotonic() + 10
    while AuditEvent.select().where(AuditEvent.seq.is_null()).exists():
        assert time.monotonic() < deadline, "queued records were never chained"
        time.sleep(0.05)
    events = list(AuditEvent.select().order_by(AuditEvent.seq))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.get_id() for e in events] == sorted(e.get_id() for e in events)
    assert events[0].prev_hash == audit.GENESIS
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    assert audit.verify().ok


def test_verify_names_an_edited_record(live: LiveServer) -> None:
    events = _chain(live, 6)
    assert _cli(live, "verify").exit_code == 0
    _tamper()
    edited = events[3]
    AuditEvent.update(target="/s/innocent.txt").where(
        AuditEvent.seq == edited.seq
    ).execute()

    result = audit.verify()
    assert result.problems == [
        f"seq {edited.seq} (id {edited.get_id()}): edited (its fields no longer "
        "match its hash)"
    ]
    answer = _cli(live, "verify")
    assert answer.exit_code == 1
    assert f"BROKEN: seq {edited.seq}" in answer.output


def test_verify_names_an_edited_and_rehashed_record(live: LiveServer) -> None:
    events = _chain(live, 6)
    _tamper()
    edited = events[2]
    edited.target = "/s/innocent.txt"
    AuditEvent.update(
        target=edited.target, hash=audit.digest(edited, edited.seq, edited.prev_hash)
    ).where(AuditEvent.seq == edited.seq).execute()

    [problem] = audit.verify().problems
    assert problem.startswith(f"seq {edited.seq + 1} ")
    assert f"seq {edited.seq}) was edited or replaced" in problem


def test_verify_names_removed_records(live: LiveServer) -> None:
    events = _chain(live, 8)
    _tamper()
    AuditEvent.delete().where(AuditEvent.seq.in_([4, 5])).execute()
    assert audit.verify().problems == [
        f"records seq 4-5 are missing (removed) before seq 6 (id {events[5].get_id()})"
    ]


def test_an_anchor_catches_records_removed_from_the_end(live: LiveServer) -> None:
    events = _chain(live, 5)
    head = f"{events[-1].seq}:{events[-1].hash}"
    assert _cli(live, "verify", "--anchor", head).exit_code == 0
    _tamper()
    AuditEvent.delete().where(AuditEvent.seq == events[-1].seq).execute()
    answer = _cli(live, "verify", "--anchor", head)
    assert answer.exit_code == 1
    assert "removed from the end" in answer.output


def test_the_database_refuses_to_edit_or_remove_a_record(live: LiveServer) -> None:
    events = _chain(live, 3)
    audit.record("file_read", actor="alice", target="/s/queued.txt")
    queued = AuditEvent.get(AuditEvent.seq.is_null())
    changes = [
        AuditEvent.update(target="/s/innocent.txt").where(
            AuditEvent.seq == events[1].seq
        ),
        AuditEvent.update(target="/s/innocent.txt").where(AuditEvent.id == queued.id),
        AuditEvent.update(seq=99, hash="0" * 64).where(AuditEvent.seq == events[1].seq),
        AuditEvent.delete().where(AuditEvent.seq == events[2].seq),
        AuditEvent.delete(),
    ]
    for change in changes:
        with pytest.raises(peewee.IntegrityError, match="append-only"):
            change.execute()
    audit.append_queued()
    assert AuditEvent.get_by_id(queued.id).seq == events[-1].seq + 1
    assert audit.verify().ok


def test_export_writes_json_lines_since_a_time(live: LiveServer) -> None:
    _chain(live, 3)
    later = time.time()
    time.sleep(0.01)
    audit.record("file_read", actor="alice", target="/s/late.txt")
    every = _cli(live, "export", "--format", "jsonl")
    assert every.exit_code == 0, every.output
    rows = [json.loads(line) for line in every.output.splitlines()]
    assert [row["seq"] for row in rows] == list(range(1, len(rows) + 1))
    assert set(rows[0]) == {
        "seq",
        "time",
        "actor",
        "address",
        "action",
        "target",
        "outcome",
        "detail",
        "prev_hash",
        "hash",
    }
    recent = _cli(live, "export", "--since", str(later))
    [row] = [json.loads(line) for line in recent.output.splitlines()]
    assert row["target"] == "/s/late.txt" and row["time"].endswith("Z")


def test_export_and_verify_run_beside_a_server_that_is_writing(
    live: LiveServer,
) -> None:
    # A command run in the server's own process once swapped the database
    # handle under the chainer's write: both waited, then "database is locked".
    done = threading.Event()

    def write() -> None:
        while not done.is_set():
            audit.record("file_read", actor="alice", target="/s/busy.txt")

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(4):
            exported = _cli(live, "export")
            assert exported.exit_code == 0, repr(exported.exception)
            verified = _cli(live, "verify")
            assert verified.exit_code == 0, repr(verified.exception)
    finally:
        done.set()
        writer.join()
    assert audit.verify().ok


def test_secrets_never_reach_the_trail(live: LiveServer) -> None:
    audit.record("auth.signin", actor="bob", detail="password=hunter2 from cli")
    audit.record("share_password_updated", actor="bob", detail="Password: s3cret!")
    details = [e.detail for e in AuditEvent.select()]
    assert "password=*** from cli" in details and "Password: ***" in details
    assert not any("hunter2" in d or "s3cret" in d for d in details)


def test_export_takes_an_iso_date_and_names_a_bad_one(live: LiveServer) -> None:
    _chain(live, 2)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    dated = _cli(live, "export", "--since", today)
    assert dated.exit_code == 0, dated.output
    assert len(dated.output.splitlines()) >= 2
    future = _cli(live, "export", "--since", "2999-01-01T00:00:00Z")
    assert future.exit_code == 0 and future.output == ""
    bad = _cli(live, "export", "--since", "last tuesday")
    assert bad.exit_code == 2
    assert "expected a date such as 2026-12-01" in bad.output


def _triggers(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        ).fetchall()
    return [row[0] for row in rows]


def test_new_and_upgraded_databases_keep_the_trail_append_only(
    tmp_path: Path,
) -> None:
    expected = [f"audit_event_no_{name}" for name in ("delete", "edit", "rechain")]
    fresh = tmp_path / "fresh"
    Grove(make_settings(fresh)).upgrade()
    upgraded = tmp_path / "upgraded"
    shutil.copytree(REPO / "tests" / "data" / "schema1", upgraded)
    Grove(make_settings(upgraded)).upgrade()
    db.database.close()
    for data in (fresh, upgraded):
        assert _triggers(data / ".grove" / "grove.db") == expected
