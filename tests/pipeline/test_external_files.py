"""What follows a change another program makes in the tree: checksum and MIME
type computed by a durable job (none served before), an audit event per
change, and the malware scan of ``external_scan`` with a real clamd."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from app import jobs, quota
from app.models import AuditEvent, Space
from app.storage.follow import EXTERNAL
from app.storage.watcher import Watcher
from tests.conftest import LiveServer, make_settings, start_server
from tests.dav.test_external_changes import NS, listing, wait_until
from tests.pipeline.daemons import EICAR, Clamd
from tests.search.test_indexing import found

pytestmark = pytest.mark.filterwarnings(
    "ignore:Callback with id .* already exists:RuntimeWarning"
)
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f")
TYPE_BODY = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getcontenttype/>'
    "</d:prop></d:propfind>"
)


@contextmanager
def watching(data: Path, **options: Any) -> Iterator[LiveServer]:
    """A running Grove (alice exists) whose watcher follows the tree; jobs run
    only when the test calls ``jobs.run_pending()``."""
    settings = make_settings(data, watch_batch_ms=50, **options)
    server, live = start_server(settings)
    live.add_user("alice")
    watcher = Watcher(settings)
    assert watcher.start()
    try:
        wait_until(lambda: watcher.scans >= 1)
        jobs.run_pending()
        yield live
    finally:
        watcher.stop()
        server.stop()


def content_type(live: LiveServer, name: str) -> str | None:
    answer = live.session().request(
        "PROPFIND", f"{live.dav()}/{name}", data=TYPE_BODY, headers={"Depth": "0"}
    )
    assert answer.status_code == 207, answer.text
    return etree.fromstring(answer.content).findtext(".//d:getcontenttype", None, NS)


def external_events() -> list[tuple[str, str, str]]:
    """(action, target's last part, outcome) of audit events for external changes."""
    rows = (
        AuditEvent.select().where(AuditEvent.detail == EXTERNAL).order_by(AuditEvent.id)
    )
    return [(r.action, r.target.rsplit("/", 1)[-1], r.outcome) for r in rows]


def shown(live: LiveServer, name: str) -> dict[str, Any] | None:
    return listing(live).get(name)


def checksum_after_jobs(live: LiveServer, name: str) -> str | None:
    """The checksum shown once the queued jobs ran (the watcher queues them just
    after its batch shows in listings)."""
    jobs.run_pending()
    return shown(live, name)["checksum"]


def test_checksum_type_and_audit_follow_external_writes(tmp_path: Path) -> None:
    with watching(tmp_path / "data") as live:
        root = live.user_root()
        (root / "picture.dat").write_bytes(PNG)
        (root / "~$report.docx").write_bytes(b"owner file of an office suite")
        entry = wait_until(lambda: shown(live, "picture.dat"))
        # Until the job ran, no checksum is served (a client would reject it).
        assert entry["checksum"] is None
        sha1 = hashlib.sha1(PNG).hexdigest()
        wait_until(lambda: checksum_after_jobs(live, "picture.dat") == f"SHA1:{sha1}")
        assert content_type(live, "picture.dat") == "image/png"
        assert ("file_create", "picture.dat", "ok") in external_events()
        # Content libmagic finds nothing in: the type the name suggests.
        (root / "noise.jpg").write_bytes(b"\x00\xff" * 1500)
        wait_until(lambda: checksum_after_jobs(live, "noise.jpg"))
        assert content_type(live, "noise.jpg") == "image/jpeg"
        assert not any(e[1] == "~$report.docx" for e in external_events())

        # Rewritten in place: the old checksum is withdrawn, then recomputed.
        (root / "picture.dat").write_bytes(b"now plain text\n")
        wait_until(lambda: shown(live, "picture.dat")["size"] == 15)
        assert shown(live, "picture.dat")["checksum"] is None
        sha1 = hashlib.sha1(b"now plain text\n").hexdigest()
        wait_until(lambda: checksum_after_jobs(live, "picture.dat") == f"SHA1:{sha1}")
        # Plain text under a name that suggests no type: reported as for an
        # upload of it (docs/pipeline.md: generic detections defer to the name).
        assert content_type(live, "picture.dat") == "application/octet-stream"
        assert ("file_update", "picture.dat", "ok") in external_events()

        before = shown(live, "picture.dat")["id"]
        os.rename(root / "picture.dat", root / "notes.txt")
        assert wait_until(lambda: shown(live, "notes.txt"))["id"] == before
        os.mkdir(root / "folder")
        (root / "folder" / "inside.txt").write_bytes(b"x")
        wait_until(lambda: shown(live, "folder"))
        wait_until(
            lambda: (
                jobs.run_pending() * 0
                or ("container_create", "folder", "ok") in external_events()
            )
        )
        os.unlink(root / "folder" / "inside.txt")
        os.rmdir(root / "folder")
        wait_until(lambda: shown(live, "folder") is None)
        wanted = {
            ("file_rename", "notes.txt", "ok"),
            ("container_create", "folder", "ok"),
            ("file_delete", "folder", "ok"),
        }
        wait_until(
            lambda: jobs.run_pending() * 0 or wanted <= set(external_events()),
            extra=external_events,
        )
        # A rename is one event (the listing that found it first kept the row).
        assert ("file_create", "notes.txt", "ok") not in external_events()
        assert ("file_delete", "picture.dat", "ok") not in external_events()


def infected_events() -> list[tuple[str, str]]:
    rows = AuditEvent.select().where(
        (AuditEvent.action == "file_scan") & (AuditEvent.outcome == "infected")
    )
    return [(r.target.rsplit("/", 1)[-1], r.detail) for r in rows]


def test_an_infected_file_written_on_disk_is_quarantined(
    tmp_path: Path, clamd: Clamd
) -> None:
    options = {"scanner": "clamd", "clamd_address": str(clamd.socket)}
    with watching(tmp_path / "data", **options) as live:
        root = live.user_root()
        (root / "clean.txt").write_bytes(b"nothing to see")
        (root / "eicar.com").write_bytes(EICAR)
        wait_until(lambda: shown(live, "eicar.com") and shown(live, "clean.txt"))
        wait_until(lambda: jobs.run_pending() * 0 or not (root / "eicar.com").exists())
        quarantined = list((live.settings.state_dir / "quarantine").iterdir())
        assert [p.read_bytes() for p in quarantined] == [EICAR]
        assert quarantined[0].stat().st_mode & 0o777 == 0o600
        [(target, detail)] = infected_events()
        assert target == "eicar.com" and "Eicar" in detail and "quarantined" in detail
        wait_until(lambda: shown(live, "eicar.com") is None)
        assert (root / "clean.txt").exists() and shown(live, "clean.txt")["checksum"]


def test_report_keeps_an_infected_file_and_audits_it(
    tmp_path: Path, clamd: Clamd
) -> None:
    options = {
        "scanner": "clamd",
        "clamd_address": str(clamd.socket),
        "external_scan": "report",
    }
    with watching(tmp_path / "data", **options) as live:
        root = live.user_root()
        (root / "eicar.com").write_bytes(EICAR)
        wait_until(lambda: shown(live, "eicar.com"))
        wait_until(lambda: jobs.run_pending() * 0 or infected_events())
        assert (root / "eicar.com").read_bytes() == EICAR
        assert not (live.settings.state_dir / "quarantine").exists()
        [(target, detail)] = infected_events()
        assert target == "eicar.com" and "quarantined" not in detail


def test_a_program_filling_a_space_past_its_quota(tmp_path: Path) -> None:
    """Its files stay, the space reports exceeded, uploads through Grove are
    refused until the program's files are gone again."""
    with watching(tmp_path / "data", quota_default=1000) as live:
        root, alice = live.user_root(), live.session()
        assert alice.put(f"{live.dav()}/mine.txt", data=b"x" * 100).status_code == 201
        (root / "dump.bin").write_bytes(b"y" * 1500)
        wait_until(lambda: listing(live, "", "0")[""]["size"] == 1600)
        space = Space.get(Space.folder == "users/alice")
        usage = quota.usage(space, disk_free=10**12)
        assert (usage.used, usage.remaining, usage.state) == (1600, 0, "exceeded")
        refused = alice.put(f"{live.dav()}/more.txt", data=b"z")
        assert refused.status_code == 507, refused.text
        assert "quota" in refused.text
        assert not (root / "more.txt").exists()
        assert (root / "dump.bin").stat().st_size == 1500  # the program's file stays
        (root / "dump.bin").unlink()
        wait_until(lambda: listing(live, "", "0")[""]["size"] == 100)
        assert alice.put(f"{live.dav()}/more.txt", data=b"z").status_code == 201


def test_search_follows_what_a_program_writes_renames_and_deletes(
    tmp_path: Path,
) -> None:
    with watching(tmp_path / "data") as live:
        root, alice, url = live.user_root(), live.session(), f"{live.dav()}/"

        def found_after_jobs(pattern: str) -> list[str]:
            jobs.run_pending()
            return found(alice, url, pattern)

        (root / "minutes.md").write_bytes(b"# Minutes\nthe zebra crossing budget\n")
        (root / ".~lock.minutes.md#").write_bytes(b"an office suite's lock")
        assert wait_until(lambda: found_after_jobs("zebra") == ["minutes.md"])
        os.rename(root / "minutes.md", root / "archived minutes.md")
        assert wait_until(lambda: found_after_jobs("zebra") == ["archived minutes.md"])
        (root / "archived minutes.md").write_bytes(b"now about giraffes\n")
        assert wait_until(lambda: found_after_jobs("zebra") == [])
        assert found(alice, url, "giraffes") == ["archived minutes.md"]
        (root / "archived minutes.md").unlink()
        assert wait_until(lambda: found_after_jobs("giraffes") == [])
        assert found(alice, url, "lock") == []  # office lock files are not indexed
