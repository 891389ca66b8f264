"""Retention: old trash and old or surplus versions go, through the job queue."""

from __future__ import annotations

import time

from app import db, jobs
from app.models import TrashItem, Version
from app.retention import DAY
from tests.conftest import make_settings, start_server


def test_the_retention_job_purges_old_trash_and_versions(tmp_path):
    settings = make_settings(
        tmp_path / "data", versions_retention_days=10, versions_max_count=2
    )
    server, live = start_server(settings)
    try:
        live.add_user("alice")
        alice = live.session()
        dav = live.dav()
        for content in (b"1", b"2", b"3", b"4"):
            alice.put(f"{dav}/a.txt", data=content)
        alice.put(f"{dav}/b.txt", data=b"b")
        alice.put(f"{dav}/b.txt", data=b"bb")
        alice.put(f"{dav}/gone.txt", data=b"x")
        alice.delete(f"{dav}/gone.txt")
        assert Version.select().count() == 4
        assert TrashItem.select().count() == 1

        # Now: the count rule keeps a.txt's two newest versions.
        jobs.enqueue("retention.apply")
        jobs.run_pending()
        assert Version.select().count() == 3
        assert TrashItem.select().count() == 1

        # Eleven days on, versions are past their age; the trash is not yet.
        jobs.enqueue("retention.apply", now=time.time() + 11 * DAY)
        jobs.run_pending()
        assert Version.select().count() == 0
        assert TrashItem.select().count() == 1
        assert not [
            p for p in (settings.state_dir / "versions").rglob("*") if p.is_file()
        ]

        # Thirty-one days on (the default), the trash is purged too.
        jobs.enqueue("retention.apply", now=time.time() + 31 * DAY)
        jobs.run_pending()
        assert TrashItem.select().count() == 0
        assert not [p for p in (settings.state_dir / "trash").rglob("*") if p.is_file()]
        assert alice.get(f"{dav}/a.txt").content == b"4"
    finally:
        server.stop()


def test_queued_retention_survives_a_restart(tmp_path):
    settings = make_settings(tmp_path / "data")
    server, live = start_server(settings)
    try:
        live.add_user("alice")
        alice = live.session()
        alice.put(f"{live.dav()}/old.txt", data=b"old")
        alice.delete(f"{live.dav()}/old.txt")
        # Queued while no worker runs: it waits in the database, not in memory.
        jobs.enqueue("retention.apply", now=time.time() + 31 * DAY)
    finally:
        server.stop()
        live.app.grove.database.close()
    assert TrashItem.select().count() == 1

    server, live = start_server(settings)
    workers = jobs.start_workers(1)
    assert workers is not None
    try:
        deadline = time.monotonic() + 10
        while TrashItem.select().count():
            assert time.monotonic() < deadline, "the queued retention did not run"
            time.sleep(0.05)
        assert jobs.pending() == 0
        assert not [p for p in (settings.state_dir / "trash").rglob("*") if p.is_file()]
    finally:
        workers.stop()
        server.stop()


def test_the_hourly_job_applies_the_configured_ages(tmp_path):
    settings = make_settings(tmp_path / "data", trash_retention_days=2)
    server, live = start_server(settings)
    try:
        live.add_user("alice")
        alice = live.session()
        for name in ("old.txt", "new.txt"):
            alice.put(f"{live.dav()}/{name}", data=b"x")
            alice.delete(f"{live.dav()}/{name}")
        with db.write():
            TrashItem.update(deleted=time.time() - 3 * DAY).where(
                TrashItem.name == "old.txt"
            ).execute()

        jobs.run_periodic_now()
        assert [row.name for row in TrashItem.select()] == ["new.txt"]
    finally:
        server.stop()
