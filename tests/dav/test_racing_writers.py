"""A program writes a file while a client PUTs the same file: the result is one
complete content or the other, never a mix, and the loser is kept as a version.

The program's write lands in the middle of the upload's body (the body is a
generator that pauses halfway), so the order is fixed, not left to timing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from app.models import AuditEvent
from tests.conftest import LiveServer
from tests.dav.test_versions import file_id, version_hrefs

HALF = 256 * 1024
UPLOAD = b"u" * (2 * HALF)


def in_place(path: Path, content: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(0)
        handle.write(content)


def rename_over(path: Path, content: bytes) -> None:
    temporary = path.with_name(".save.tmp")
    temporary.write_bytes(content)
    os.rename(temporary, path)


def body(staging: Path, meanwhile: Callable[[], None]) -> Iterator[bytes]:
    """The upload's body; ``meanwhile`` runs once the server has begun taking
    it in (its staging file exists), before the second half is sent."""
    yield UPLOAD[:HALF]
    deadline = time.monotonic() + 10
    while not any(staging.glob("*")):
        assert time.monotonic() < deadline, "the upload never began"
        time.sleep(0.01)
    # The filesystem's clock ticks every few milliseconds: a write in the same
    # tick as the upload's start counts as before it.
    time.sleep(0.05)
    meanwhile()
    yield UPLOAD[HALF:]


def staging(live: LiveServer) -> Path:
    return live.settings.state_dir / "uploads"


def versions_of(live: LiveServer, alice: requests.Session, name: str) -> list[bytes]:
    fileid = file_id(alice, f"{live.dav()}/{name}")
    hrefs = version_hrefs(alice, f"{live.url}/dav/meta/{fileid}")
    return [alice.get(live.url + href).content for href in hrefs]


@pytest.mark.parametrize("write", [in_place, rename_over])
def test_a_program_writing_during_an_upload_wins_and_the_upload_is_kept(
    live: LiveServer, alice: requests.Session, write: Callable[[Path, bytes], None]
) -> None:
    url = f"{live.dav()}/report.txt"
    assert alice.put(url, data=b"first").status_code == 201
    path = live.user_root() / "report.txt"
    answer = alice.put(
        url, data=body(staging(live), lambda: write(path, b"the program's content"))
    )
    assert answer.status_code == 412, answer.text
    assert "changed on disk by another program" in answer.text
    assert path.read_bytes() == b"the program's content"
    assert alice.get(url).content == b"the program's content"
    # Nothing is lost: the upload and the first content are versions.
    assert versions_of(live, alice, "report.txt")[0] == UPLOAD
    event = AuditEvent.select().where(AuditEvent.outcome == "conflict").get()
    assert event.action == "file_update" and event.actor == "alice"
    assert not list((live.settings.state_dir / "uploads").glob("*"))


def test_an_upload_after_the_program_wins_and_keeps_its_content(
    live: LiveServer, alice: requests.Session
) -> None:
    url = f"{live.dav()}/report.txt"
    assert alice.put(url, data=b"first").status_code == 201
    path = live.user_root() / "report.txt"
    before = file_id(alice, url)
    rename_over(path, b"the program's content")
    time.sleep(0.05)  # a clock tick later (see body)
    # An editor's save: the file renamed over the original takes its id, also
    # when a request finds it before the watcher does.
    assert file_id(alice, url) == before
    answer = alice.put(url, data=body(staging(live), lambda: None))
    assert answer.status_code == 204, answer.text
    assert path.read_bytes() == UPLOAD
    # The program's content is a version; "first", which the program replaced
    # outside Grove, is not (Grove held no copy of it).
    assert versions_of(live, alice, "report.txt") == [b"the program's content"]


def test_two_uploads_through_grove_do_not_count_as_another_program(
    live: LiveServer, alice: requests.Session
) -> None:
    """The later commit wins, the other upload's content becomes a version."""
    url = f"{live.dav()}/report.txt"
    assert alice.put(url, data=b"first").status_code == 201
    other = live.session()

    def second_upload() -> None:
        assert other.put(url, data=b"the second upload").status_code == 204

    answer = alice.put(url, data=body(staging(live), second_upload))
    assert answer.status_code == 204, answer.text
    assert alice.get(url).content == UPLOAD
    assert versions_of(live, alice, "report.txt")[:2] == [
        b"the second upload",
        b"first",
    ]


def test_simultaneous_uploads_of_one_file_never_look_like_another_program(
    live: LiveServer,
) -> None:
    """Pairs of PUTs of the same file at the same moment: the later commit
    wins, each answers 201 or 204, never the 412 meant for another program's
    write (the first commit's row must be recorded before the second looks)."""
    sessions = [live.session(), live.session()]
    contents = [b"a" * (1 << 20), b"b" * (1 << 20)]

    def put(index: int, url: str) -> int:
        return sessions[index].put(url, data=contents[index]).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        for number in range(20):
            url = f"{live.dav()}/race{number % 5}.bin"
            codes = list(pool.map(lambda i, u=url: put(i, u), [0, 1]))
            assert all(code in (201, 204) for code in codes), codes
    for number in range(5):
        assert (live.user_root() / f"race{number}.bin").read_bytes() in contents
    assert not AuditEvent.select().where(AuditEvent.outcome == "conflict").exists()
