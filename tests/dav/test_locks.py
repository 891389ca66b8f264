"""WebDAV class 2: locks in the database, across URL layouts, processes and restarts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from lxml import etree

from app import locks
from tests.app.processes import grove_serve
from tests.conftest import PASSWORD

NS = {"d": "DAV:"}
REPO = Path(__file__).resolve().parents[2]


def lockinfo(scope: str = "exclusive") -> str:
    return (
        '<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:">'
        f"<d:lockscope><d:{scope}/></d:lockscope>"
        "<d:locktype><d:write/></d:locktype>"
        "<d:owner>tests</d:owner></d:lockinfo>"
    )


def lock(session, url, *, scope="exclusive", depth="0", timeout=None):
    headers = {"Depth": depth}
    if timeout is not None:
        headers["Timeout"] = timeout
    return session.request("LOCK", url, data=lockinfo(scope), headers=headers)


def active_locks(session, url) -> list[etree._Element]:
    body = (
        '<?xml version="1.0"?><d:propfind xmlns:d="DAV:">'
        "<d:prop><d:lockdiscovery/></d:prop></d:propfind>"
    )
    answer = session.request("PROPFIND", url, data=body, headers={"Depth": "0"})
    assert answer.status_code == 207, answer.text
    return etree.fromstring(answer.content).findall(".//d:activelock", NS)


@contextmanager
def grove_process(data: Path) -> Iterator[str]:
    """Another Grove process (``grove serve``) on the data folder ``data``."""
    log = data.parent / "other-grove.log"
    with grove_serve(data, log, GROVE_ADMIN_PASSWORD="admin-password-1") as other:
        yield other.url


def test_locked_file_refuses_writes_without_its_token(live, alice):
    url = f"{live.dav()}/doc.txt"
    alice.put(url, data=b"v1")
    token = lock(alice, url).headers["Lock-Token"]

    assert alice.put(url, data=b"v2").status_code == 423
    assert alice.delete(url).status_code == 423
    moved = alice.request("MOVE", url, headers={"Destination": f"{live.dav()}/m.txt"})
    assert moved.status_code == 423
    assert alice.get(url).content == b"v1"

    assert alice.put(url, data=b"v2", headers={"If": f"({token})"}).status_code == 204
    unlocked = alice.request("UNLOCK", url, headers={"Lock-Token": token})
    assert unlocked.status_code == 204
    assert alice.delete(url).status_code == 204


def test_corrupt_token_is_refused_on_existing_and_new_files(live, alice):
    url = f"{live.dav()}/c.txt"
    alice.put(url, data=b"v1")
    token = lock(alice, url).headers["Lock-Token"].strip("<>")

    corrupt = {"If": f"(<{token}x>) (Not <DAV:no-lock>)"}
    assert alice.put(url, data=b"x", headers=corrupt).status_code == 423
    new = alice.put(f"{live.dav()}/new.txt", data=b"x", headers={"If": f"(<{token}x>)"})
    assert new.status_code == 412
    assert alice.head(f"{live.dav()}/new.txt").status_code == 404
    assert alice.get(url).content == b"v1"


def test_lock_via_spaces_layout_holds_via_every_other_layout(live, alice):
    alice.put(f"{live.dav()}/shared.txt", data=b"1")
    spaces_url = f"{live.url}/dav/spaces/{live.drive_id(alice)}/shared.txt"
    webdav_url = f"{live.url}/remote.php/webdav/shared.txt"

    locked = lock(alice, spaces_url)
    assert locked.status_code == 200, locked.text
    token = locked.headers["Lock-Token"]

    conflict = lock(alice, webdav_url)
    assert conflict.status_code == 423
    # The conflicting lock is named by its URL in the layout the client used.
    named = etree.fromstring(conflict.content).findtext(".//d:href", namespaces=NS)
    assert named == "/remote.php/webdav/shared.txt"
    assert lock(alice, webdav_url, scope="shared").status_code == 423
    assert (
        alice.put(f"{live.url}/dav/files/alice/shared.txt", data=b"2").status_code
        == 423
    )
    # A tagged If list naming the spaces URL applies to the same file here.
    tagged = {"If": f"<{spaces_url}> ({token})"}
    assert alice.put(webdav_url, data=b"2", headers=tagged).status_code == 204
    assert len(active_locks(alice, webdav_url)) == 1
    assert (
        alice.request("UNLOCK", webdav_url, headers={"Lock-Token": token}).status_code
        == 204
    )
    assert alice.put(spaces_url, data=b"3").status_code == 204


def test_shared_locks_coexist_and_exclude_an_exclusive_one(live, alice):
    url = f"{live.dav()}/s.txt"
    alice.put(url, data=b"1")
    assert lock(alice, url, scope="shared").status_code == 200
    assert lock(alice, url, scope="shared").status_code == 200
    assert lock(alice, url).status_code == 423
    assert len(active_locks(alice, url)) == 2


def test_depth_infinity_covers_members_depth_zero_only_membership(live, alice):
    alice.request("MKCOL", f"{live.dav()}/deep")
    alice.request("MKCOL", f"{live.dav()}/flat")
    alice.put(f"{live.dav()}/deep/a.txt", data=b"a")
    alice.put(f"{live.dav()}/flat/a.txt", data=b"a")
    deep = lock(alice, f"{live.dav()}/deep", depth="infinity").headers["Lock-Token"]
    flat = lock(alice, f"{live.dav()}/flat", depth="0").headers["Lock-Token"]

    assert alice.put(f"{live.dav()}/deep/a.txt", data=b"b").status_code == 423
    assert lock(alice, f"{live.dav()}/deep/a.txt").status_code == 423
    assert alice.put(f"{live.dav()}/deep/new.txt", data=b"n").status_code == 423
    with_token = {"If": f"({deep})"}
    assert (
        alice.put(
            f"{live.dav()}/deep/new.txt", data=b"n", headers=with_token
        ).status_code
        == 201
    )

    # Depth 0 protects the folder's membership, not its members' content.
    assert alice.put(f"{live.dav()}/flat/a.txt", data=b"b").status_code == 204
    assert alice.put(f"{live.dav()}/flat/new.txt", data=b"n").status_code == 423
    # The token names the folder's lock: a list tagged with the folder's URL.
    with_token = {"If": f"<{live.dav()}/flat> ({flat})"}
    answer = alice.put(f"{live.dav()}/flat/new.txt", data=b"n", headers=with_token)
    assert answer.status_code == 201


def test_refused_lock_on_unmapped_url_leaves_no_file(live, alice):
    alice.request("MKCOL", f"{live.dav()}/held")
    lock(alice, f"{live.dav()}/held", depth="infinity")
    assert lock(alice, f"{live.dav()}/held/new.txt").status_code == 423
    assert not (live.user_root() / "held" / "new.txt").exists()

    made = lock(alice, f"{live.dav()}/fresh.txt")
    assert made.status_code == 201
    assert (live.user_root() / "fresh.txt").read_bytes() == b""


def test_refresh_extends_and_expired_locks_stop_holding(live, alice):
    url = f"{live.dav()}/r.txt"
    alice.put(url, data=b"1")
    token = lock(alice, url, timeout="Second-1").headers["Lock-Token"]
    refreshed = alice.request(
        "LOCK", url, headers={"If": f"({token})", "Timeout": "Second-300"}
    )
    assert refreshed.status_code == 200, refreshed.text
    timeout = etree.fromstring(refreshed.content).findtext(
        ".//d:timeout", namespaces=NS
    )
    assert 290 <= int(timeout.removeprefix("Second-")) <= 300

    other = f"{live.dav()}/short.txt"
    alice.put(other, data=b"1")
    lock(alice, other, timeout="Second-1")
    time.sleep(1.2)
    assert alice.put(url, data=b"2").status_code == 423
    assert alice.put(other, data=b"2").status_code == 204
    assert active_locks(alice, other) == []


def test_delete_of_folder_keeps_a_member_locked_two_levels_down(live, alice):
    for folder in ("top", "top/mid", "top/mid/low"):
        alice.request("MKCOL", f"{live.dav()}/{folder}")
    alice.put(f"{live.dav()}/top/mid/low/locked.txt", data=b"keep me")
    alice.put(f"{live.dav()}/top/other.txt", data=b"other")
    token = lock(alice, f"{live.dav()}/top/mid/low/locked.txt").headers["Lock-Token"]

    answer = alice.delete(f"{live.dav()}/top")
    assert answer.status_code == 207
    responses = etree.fromstring(answer.content).findall("d:response", NS)
    assert [r.findtext("d:href", namespaces=NS) for r in responses] == [
        "/remote.php/dav/files/alice/top/mid/low/locked.txt"
    ]
    assert "423" in responses[0].findtext("d:status", namespaces=NS)
    assert (live.user_root() / "top/mid/low/locked.txt").read_bytes() == b"keep me"

    tagged = {"If": f"<{live.dav()}/top/mid/low/locked.txt> ({token})"}
    assert alice.delete(f"{live.dav()}/top", headers=tagged).status_code == 204
    assert not (live.user_root() / "top").exists()
    assert alice.put(f"{live.dav()}/top/mid/low/locked.txt").status_code == 409
    alice.request("MKCOL", f"{live.dav()}/top")
    assert lock(alice, f"{live.dav()}/top", depth="infinity").status_code == 200


def test_lock_with_doctype_entities_is_400_and_leaves_no_lock(live, alice):
    url = f"{live.dav()}/hostile.txt"
    alice.put(url, data=b"1")
    hostile = (
        '<?xml version="1.0"?><!DOCTYPE d:lockinfo [<!ENTITY x "xxxxxxxxxx">'
        '<!ENTITY y "&x;&x;&x;&x;&x;&x;&x;&x;&x;&x;">]>'
        '<d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope>'
        "<d:locktype><d:write/></d:locktype><d:owner>&y;</d:owner></d:lockinfo>"
    )
    for target in (url, f"{live.dav()}/unmapped.txt"):
        answer = alice.request("LOCK", target, data=hostile, headers={"Depth": "0"})
        assert answer.status_code == 400, answer.text
        assert "Lock-Token" not in answer.headers
    assert active_locks(alice, url) == []
    assert alice.put(url, data=b"2").status_code == 204
    assert not (live.user_root() / "unmapped.txt").exists()


def test_database_refuses_a_conflicting_grant_that_bypasses_the_lock_manager(live):
    root = "/space-id/file.txt"
    first = locks.grant(
        root, scope="exclusive", depth="0", owner="", principal="a", timeout=60
    )
    with pytest.raises(locks.LockConflict) as refused:
        locks.grant(
            "/space-id/",
            scope="shared",
            depth="infinity",
            owner="",
            principal="b",
            timeout=60,
        )
    assert refused.value.roots == [root]
    assert [lock.token for lock in locks.on(root)] == [first.token]


def test_racing_grants_from_many_threads_give_one_exclusive_lock(live):
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def contend() -> None:
        start.wait(timeout=10)
        try:
            locks.grant(
                "/space-id/race.txt",
                scope="exclusive",
                depth="0",
                owner="",
                principal="t",
                timeout=60,
            )
            outcomes.append("granted")
        except locks.LockConflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["granted"] + ["refused"] * 7


def test_lock_taken_in_one_process_refuses_a_conflict_in_another(live, alice):
    url = f"{live.dav()}/p.txt"
    alice.put(url, data=b"1")
    token = lock(alice, url).headers["Lock-Token"]

    with grove_process(live.settings.data) as other:
        session = requests.Session()
        session.auth = ("alice", PASSWORD)
        there = f"{other}/remote.php/dav/files/alice/p.txt"
        assert lock(session, there).status_code == 423
        assert session.put(there, data=b"2").status_code == 423
        assert (
            session.put(there, data=b"2", headers={"If": f"({token})"}).status_code
            == 204
        )
        # And the other way round: a lock granted there holds here.
        alice.request("MKCOL", f"{live.dav()}/d")
        lock(session, f"{other}/remote.php/dav/files/alice/d", depth="infinity")
    assert lock(alice, f"{live.dav()}/d/x.txt").status_code == 423


def test_lock_survives_a_restart(live, alice):
    url_path = "/remote.php/dav/files/alice/kept.txt"
    alice.put(live.url + url_path, data=b"1")
    session = requests.Session()
    session.auth = ("alice", PASSWORD)

    with grove_process(live.settings.data) as first:
        token = lock(session, first + url_path).headers["Lock-Token"]
    with grove_process(live.settings.data) as second:
        assert session.put(second + url_path, data=b"2").status_code == 423
        assert lock(session, second + url_path).status_code == 423
        with_token = {"If": f"({token})"}
        assert (
            session.put(second + url_path, data=b"2", headers=with_token).status_code
            == 204
        )
