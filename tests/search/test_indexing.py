"""Indexing after the commit, as durable jobs, and ``grove index rebuild``.

A PUT queues the indexing job; nothing is searchable before a worker runs it,
the job survives a server restart, and a hostile document is still stored
(and found by name). The rebuild command runs as an admin runs it: the
installed script, its progress bar on a terminal.
"""

from __future__ import annotations

import base64
import os
import pty
import re
import subprocess
from pathlib import Path
from typing import Any

import requests

from app import jobs, spaces, users
from app.auth.principal import Principal
from app.config import Settings
from app.instance import Grove
from app.models import Node
from app.search import indexer, service
from tests.app.processes import GROVE, REPO, environment
from tests.conftest import PASSWORD, make_settings, start_server
from tests.search import documents

REPORT = (
    '<?xml version="1.0"?><oc:search-files xmlns:d="DAV:" '
    'xmlns:oc="http://owncloud.org/ns"><oc:search><oc:pattern>{}</oc:pattern>'
    "</oc:search></oc:search-files>"
)


def found(session: requests.Session, url: str, pattern: str) -> list[str]:
    answer = session.request("REPORT", url, data=REPORT.format(pattern))
    assert answer.status_code == 207, answer.text
    return sorted(
        part.split("</oc:name>")[0] for part in answer.text.split("<oc:name>")[1:]
    )


def test_indexing_is_a_durable_job_that_survives_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    server, live = start_server(settings)
    live.add_user("alice")
    alice = live.session("alice")
    url = f"{live.dav()}/"
    assert alice.put(f"{url}zebra.md", data=b"# Zebra crossing").status_code == 201
    assert found(alice, url, "crossing") == []  # queued, not yet run
    server.stop()

    server, live = start_server(settings)  # a new process would start alike
    try:
        assert jobs.pending() >= 1
        jobs.run_pending()
        again = f"{live.dav()}/"
        assert found(live.session("alice"), again, "crossing") == ["zebra.md"]
    finally:
        server.stop()


def test_hostile_documents_are_stored_and_found_by_name_only(tmp_path: Path) -> None:
    bombs = {
        "payload.docx": documents.docx_bomb(tmp_path / "b.docx", 300 * 1024 * 1024),
        "payload.pdf": documents.pdf_bomb(tmp_path / "b.pdf", 300 * 1024 * 1024),
    }
    server, live = start_server(make_settings(tmp_path / "data"))
    try:
        live.add_user("alice")
        alice = live.session("alice")
        url = f"{live.dav()}/"
        for name, bomb in bombs.items():
            assert alice.put(f"{url}{name}", data=bomb.read_bytes()).status_code == 201

        jobs.run_pending()

        for name, bomb in bombs.items():
            assert alice.get(f"{url}{name}").content == bomb.read_bytes()
        assert found(alice, url, "name:payload*") == ["payload.docx", "payload.pdf"]
        assert found(alice, url, "mediatype:document") == ["payload.docx"]
        assert found(alice, url, "mediatype:pdf") == ["payload.pdf"]
    finally:
        server.stop()


def _tree(settings: Settings) -> None:
    grove = Grove(settings)
    grove.prepare()
    users.add(settings.storage_dir, "alice", PASSWORD)
    home = settings.storage_dir / "users" / "alice"
    (home / "Reports").mkdir()
    (home / "Reports" / "q1.txt").write_text("quarterly zebra figures")
    documents.pdf(home / "Reports" / "q2.pdf", ["pelican numbers"])
    documents.docx(home / "letter.docx", ["Dear walrus"])
    (home / "~$letter.docx").write_text("walrus lock")
    (home / ".~lock.letter.docx#").write_text("walrus lock")


def _names(settings: Settings, pattern: str) -> list[str]:
    user = users.get("alice")
    principal = Principal(user_id=str(user.id), name="alice")
    page = service.search(settings, principal, pattern)
    return sorted(found.hit.name for found in page.found)


def _rebuild_on_a_terminal(data: Path, *args: str) -> tuple[int, str]:
    """Run ``grove index rebuild`` with its stderr on a pseudo-terminal."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(GROVE), "index", "rebuild", "--data", str(data), *args],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=environment(COLUMNS="100"),
        cwd=REPO,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        shown += chunk
    stdout, _ = process.communicate(timeout=120)
    os.close(leader)
    return process.returncode, stdout.decode() + shown.decode(errors="replace")


def test_rebuild_indexes_the_tree_with_a_progress_bar(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    _tree(settings)

    status, output = _rebuild_on_a_terminal(settings.data)

    assert status == 0, output
    # Two space roots, four items and two lock files: eight nodes looked at.
    assert re.search(r"indexing +\[-+\] +0/8", output)
    assert re.search(r"indexing +\[#+\] +8/8", output)
    assert "indexed 4 items of 2 space(s)" in output
    assert _names(settings, "zebra") == ["q1.txt"]
    assert _names(settings, "pelican") == ["q2.pdf"]
    assert _names(settings, "walrus") == ["letter.docx"]  # no lock files
    assert _names(settings, "name:*") == ["Reports", "letter.docx", "q1.txt", "q2.pdf"]


def test_rebuild_recreates_a_lost_index(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    _tree(settings)
    assert _rebuild_on_a_terminal(settings.data)[0] == 0
    service.reset()
    index = settings.state_dir / "search" / "index.sqlite"
    for path in index.parent.iterdir():
        path.unlink()
    assert _names(settings, "zebra") == []
    service.reset()

    done = subprocess.run(
        [str(GROVE), "index", "rebuild", "alice", "--data", str(settings.data)],
        capture_output=True,
        text=True,
        env=environment(),
        cwd=REPO,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert "indexed 4 items of 1 space(s)" in done.stdout
    assert _names(settings, "zebra") == ["q1.txt"]
    service.reset()


def test_a_purged_space_and_a_deleted_user_leave_the_index(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    server, live = start_server(settings)
    try:
        live.add_user("alice")
        live.add_user("bob")
        alice = users.get("alice")
        project = spaces.create_project(settings.storage_dir, "Apollo", creator=alice)
        rocket = f"{live.url}/dav/spaces/{spaces.drive_id(project)}/rocket.txt"
        assert live.session("alice").put(rocket, data=b"lunar").status_code == 201
        bob_file = f"{live.dav('bob')}/moon.txt"
        assert live.session("bob").put(bob_file, data=b"lunar").status_code == 201
        jobs.run_pending()
        index = service.backend(settings)
        before = index.count()

        spaces.disable(project)
        spaces.purge(settings.storage_dir, settings.state_dir, project)
        users.delete(settings.storage_dir, settings.state_dir, "bob", purge=True)
        jobs.run_pending()

        assert index.count() == before - 2
        assert _names(settings, "lunar") == []
    finally:
        server.stop()


def test_uploads_through_every_door_are_found(tmp_path: Path) -> None:
    server, live = start_server(make_settings(tmp_path / "data"))
    try:
        live.add_user("alice")
        alice = live.session("alice")
        url = f"{live.dav()}/"
        # WebDAV PUT.
        assert alice.put(f"{url}put.txt", data=b"walrus by put").status_code == 201
        # Chunked upload NG: MKCOL, chunk PUTs, MOVE of .file.
        body = b"walrus by chunks " * 100
        folder = f"{live.url}/remote.php/dav/uploads/alice/transfer-1"
        length = {"OC-Total-Length": str(len(body))}
        assert alice.request("MKCOL", folder, headers=length).status_code == 201
        for number, start in enumerate(range(0, len(body), 500), start=1):
            chunk = body[start : start + 500]
            assert alice.put(f"{folder}/{number:05d}", data=chunk).status_code == 201
        moved = alice.request(
            "MOVE",
            f"{folder}/.file",
            headers={"Destination": f"{url}chunked.txt", **length},
        )
        assert moved.status_code == 201, moved.text
        # TUS creation-with-upload.
        tus_body = b"walrus by tus"
        posted = alice.post(
            url,
            data=tus_body,
            headers={
                "Tus-Resumable": "1.0.0",
                "Upload-Length": str(len(tus_body)),
                "Upload-Metadata": "filename " + base64.b64encode(b"tus.txt").decode(),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert posted.status_code == 201, posted.text

        jobs.run_pending()

        assert found(alice, url, "walrus") == ["chunked.txt", "put.txt", "tus.txt"]
    finally:
        server.stop()


def test_a_reported_folder_indexes_again_only_its_changed_members(
    tmp_path: Path, monkeypatch: Any
) -> None:
    settings = make_settings(tmp_path / "data")
    server, live = start_server(settings)
    try:
        live.add_user("alice")
        alice = live.session("alice")
        for name in ("same.md", "edited.md"):
            assert alice.put(f"{live.dav()}/{name}", data=b"# words").status_code == 201
        jobs.run_pending()
        edited = Node.get(Node.name == "edited.md")
        (settings.storage_dir / "users" / "alice" / "edited.md").write_bytes(b"# new")
        indexed: list[str] = []
        real = indexer.index_node

        def counting(settings: Settings, node_id: str) -> None:
            indexed.append(node_id)
            real(settings, node_id)

        monkeypatch.setattr(indexer, "index_node", counting)
        indexer.index_folders(settings, [str(edited.parent_id)])
        assert indexed == [str(edited.id)]
        assert found(alice, f"{live.dav()}/", "new") == ["edited.md"]
    finally:
        server.stop()
