"""Attacks on WebDAV permissions: the same item named another way is still
the same item to the permission function."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import requests

from app import jobs, roles, shares, spaces, users
from app.auth.principal import Principal
from app.perms import Perm
from tests.conftest import PASSWORD, LiveServer, make_settings, start_server

NFC = unicodedata.normalize("NFC", "Café")
NFD = unicodedata.normalize("NFD", "Café")
# Made on disk by a program (macOS writes NFD): Grove finds it in either spelling.
DISK_NFD = unicodedata.normalize("NFD", "Reçus")


@dataclass
class World:
    live: LiveServer
    base: str  # the project space's URL
    carol: requests.Session  # a SpaceEditor denied both folders


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = make_settings(tmp_path_factory.mktemp("attacks") / "data")
    server, live = start_server(settings)
    try:
        yield _build(live)
    finally:
        server.stop()


def _build(live: LiveServer) -> World:
    for name in ("alice", "carol"):
        live.add_user(name)
    alice_user = users.get("alice")
    alice = Principal(user_id=str(alice_user.id), name="alice")
    space = spaces.create_project(
        live.settings.storage_dir, "Payroll", creator=alice_user
    )
    spaces.add_member(space, "user", users.get("carol").id, roles.SPACE_EDITOR.id)
    root = spaces.root_path(live.settings.storage_dir, space)
    for folder in (NFC, DISK_NFD):
        (root / folder).mkdir()
        (root / folder / "salary.txt").write_bytes(b"secret salary")
    tree = live.app.grove.tree(space)
    for folder in (NFC, DISK_NFD):
        shares.share(
            alice,
            tree.item([folder]),
            Perm.owner(),
            grantee_type="user",
            grantee_id="carol",
            role=roles.DENIED.id,
        )
    base = f"{live.url}/dav/spaces/{spaces.drive_id(space)}"
    return World(live, base, live.session("carol", PASSWORD))


SPELLINGS = [
    pytest.param(NFC, id="nfc"),
    pytest.param(NFD, id="nfd"),
    pytest.param(unicodedata.normalize("NFC", DISK_NFD), id="disk-nfd-asked-nfc"),
    pytest.param(DISK_NFD, id="disk-nfd-asked-nfd"),
]


@pytest.mark.parametrize("folder", SPELLINGS)
def test_a_denied_folder_stays_out_of_reach_in_every_spelling(
    world: World, folder: str
) -> None:
    url = f"{world.base}/{quote(folder)}"
    carol = world.carol
    assert carol.get(f"{url}/salary.txt").status_code == 404
    listing = carol.request("PROPFIND", f"{url}/", headers={"Depth": "1"})
    assert listing.status_code == 404
    assert carol.put(f"{url}/planted.txt", data=b"x").status_code == 409
    assert carol.request("MKCOL", f"{url}/sub").status_code == 409
    assert carol.delete(f"{url}/salary.txt").status_code == 404
    copy = carol.request(
        "COPY",
        f"{url}/salary.txt",
        headers={"Destination": f"{world.base}/copied.txt"},
    )
    assert copy.status_code == 404
    assert carol.put(f"{world.base}/mine.txt", data=b"mine").status_code in (201, 204)
    into = carol.request(
        "MOVE",
        f"{world.base}/mine.txt",
        headers={"Destination": f"{url}/mine.txt"},
    )
    assert into.status_code == 409


def test_the_owner_still_reaches_both_folders(world: World) -> None:
    alice = world.live.session("alice")
    for folder in (NFC, NFD, DISK_NFD):
        answer = alice.get(f"{world.base}/{quote(folder)}/salary.txt")
        assert answer.status_code == 200
        assert answer.content == b"secret salary"


HUGE = str(10**30)
TRASH_API = "/graph/v1.0/extensions/org.grove/trash"


def test_a_tus_upload_longer_than_any_file_is_refused(world: World) -> None:
    home = f"{world.live.url}/remote.php/dav/files/carol/"
    answer = world.carol.post(
        home,
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": HUGE,
            "Upload-Metadata": "filename aHVnZS50eHQ=",  # huge.txt
        },
    )
    assert answer.status_code == 413, answer.text
    assert world.carol.get(f"{home}huge.txt").status_code == 404


def test_a_chunked_upload_longer_than_any_file_is_refused(world: World) -> None:
    uploads = f"{world.live.url}/remote.php/dav/uploads/carol"
    for headers in (
        {"OC-Total-Length": HUGE},
        {
            "OC-Total-Length": HUGE,
            "Destination": f"{world.live.url}/remote.php/dav/files/carol/huge.txt",
        },
    ):
        answer = world.carol.request("MKCOL", f"{uploads}/huge", headers=headers)
        assert answer.status_code == 413, answer.text
        listing = world.carol.request(
            "PROPFIND", f"{uploads}/huge", headers={"Depth": "1"}
        )
        assert listing.status_code == 404


def _trash_keys(world: World, session: requests.Session) -> dict[str, str]:
    """Trash key -> name, as ``session`` lists the Payroll trash over the API."""
    drive = world.base.rpartition("/")[2]
    answer = session.get(f"{world.live.url}{TRASH_API}/{drive}")
    assert answer.status_code == 200, answer.text
    return {entry["id"]: entry["name"] for entry in answer.json()["value"]}


def _refused_everywhere(world: World, key: str) -> None:
    drive = world.base.rpartition("/")[2]
    bin_url = f"{world.live.url}/dav/spaces/trash-bin/{drive}"
    listing = world.carol.request("PROPFIND", f"{bin_url}/", headers={"Depth": "1"})
    assert listing.status_code == 207
    assert key not in listing.text
    assert world.carol.get(f"{bin_url}/{key}").status_code == 404
    stolen = f"{world.base}/stolen-{key[:8]}.txt"
    moved = world.carol.request(
        "MOVE", f"{bin_url}/{key}", headers={"Destination": stolen}
    )
    assert moved.status_code == 404
    api = f"{world.live.url}{TRASH_API}/{drive}/{key}"
    restored = world.carol.post(f"{api}/restore", json={"name": "stolen.txt"})
    assert restored.status_code == 404, restored.text
    assert world.carol.get(stolen).status_code == 404


def test_what_was_deleted_from_a_denied_folder_stays_out_of_reach(world: World) -> None:
    alice = world.live.session("alice")
    url = f"{world.base}/{quote(NFC)}/payslip.txt"
    assert alice.put(url, data=b"old payslip").status_code == 201
    assert alice.delete(url).status_code == 204
    trashed = _trash_keys(world, alice)
    key = next(k for k, name in trashed.items() if name == "payslip.txt")
    assert key not in _trash_keys(world, world.carol)
    _refused_everywhere(world, key)


def test_a_trashed_denied_folder_and_its_content_stay_out_of_reach(
    world: World,
) -> None:
    alice = world.live.session("alice")
    folder = f"{world.base}/Bonus"
    assert alice.request("MKCOL", folder).status_code == 201
    assert alice.put(f"{folder}/early.txt", data=b"bonus").status_code == 201
    space = spaces.by_drive_id(world.base.rpartition("/")[2])
    user = users.get("alice")
    shares.share(
        Principal(user_id=str(user.id), name="alice"),
        world.live.app.grove.tree(space).item(["Bonus"]),
        Perm.owner(),
        grantee_type="user",
        grantee_id="carol",
        role=roles.DENIED.id,
    )
    assert alice.delete(f"{folder}/early.txt").status_code == 204
    assert alice.delete(folder).status_code == 204
    trashed = _trash_keys(world, alice)
    keys = [k for k, name in trashed.items() if name in ("Bonus", "early.txt")]
    assert len(keys) == 2
    seen = _trash_keys(world, world.carol)
    for key in keys:
        assert key not in seen
        _refused_everywhere(world, key)


def test_a_folder_holding_a_denied_folder_does_not_leave_its_space(
    world: World,
) -> None:
    alice = world.live.session("alice")
    team = f"{world.base}/Team"
    assert alice.request("MKCOL", team).status_code == 201
    assert alice.request("MKCOL", f"{team}/Reviews").status_code == 201
    assert alice.put(f"{team}/Reviews/bob.txt", data=b"review").status_code == 201
    assert alice.put(f"{team}/plan.txt", data=b"plan").status_code == 201
    space = spaces.by_drive_id(world.base.rpartition("/")[2])
    user = users.get("alice")
    shares.share(
        Principal(user_id=str(user.id), name="alice"),
        world.live.app.grove.tree(space).item(["Team", "Reviews"]),
        Perm.owner(),
        grantee_type="user",
        grantee_id="carol",
        role=roles.DENIED.id,
    )
    home = f"{world.live.url}/remote.php/dav/files/carol"
    moved = world.carol.request("MOVE", team, headers={"Destination": f"{home}/Team"})
    assert moved.status_code == 403, moved.text
    assert world.carol.request("PROPFIND", f"{home}/Team").status_code == 404
    assert not (world.live.user_root("carol") / "Team").exists()
    assert alice.get(f"{team}/Reviews/bob.txt").content == b"review"

    # Within the space the denial follows the folder.
    renamed = f"{world.base}/Team-2025"
    moved = world.carol.request("MOVE", team, headers={"Destination": renamed})
    assert moved.status_code == 201, moved.text
    assert world.carol.get(f"{renamed}/Reviews/bob.txt").status_code == 404
    assert world.carol.get(f"{renamed}/plan.txt").content == b"plan"
    assert alice.get(f"{renamed}/Reviews/bob.txt").content == b"review"


SEARCH = (
    '<?xml version="1.0"?><oc:search-files xmlns:d="DAV:" '
    'xmlns:oc="http://owncloud.org/ns"><oc:search><oc:pattern>{}</oc:pattern>'
    "<oc:limit>10</oc:limit></oc:search></oc:search-files>"
)


def test_search_totals_do_not_count_what_is_in_a_denied_folder(tmp_path) -> None:
    """The hits were filtered, but the total in Content-Range counted the
    Denied folder's documents: a yes/no oracle for any word in there."""
    server, live = start_server(make_settings(tmp_path / "data"))
    try:
        for name in ("alice", "carol"):
            live.add_user(name)
        alice_user = users.get("alice")
        space = spaces.create_project(
            live.settings.storage_dir, "Payroll", creator=alice_user
        )
        spaces.add_member(space, "user", users.get("carol").id, roles.SPACE_EDITOR.id)
        base = f"{live.url}/dav/spaces/{spaces.drive_id(space)}"
        alice = live.session("alice")
        assert alice.request("MKCOL", f"{base}/hidden").status_code == 201
        assert alice.put(f"{base}/hidden/h.txt", data=b"zebra salary").ok
        assert alice.put(f"{base}/open.txt", data=b"zebra open").ok
        shares.share(
            Principal(user_id=str(alice_user.id), name="alice"),
            live.app.grove.tree(space).item(["hidden"]),
            Perm.owner(),
            grantee_type="user",
            grantee_id="carol",
            role=roles.DENIED.id,
        )
        jobs.run_pending()
        carol = live.session("carol")
        url = f"{live.url}/remote.php/dav/files/carol/"
        for pattern, hits in (("salary", 0), ("zebra", 1), ("name:h.txt", 0)):
            answer = carol.request("REPORT", url, data=SEARCH.format(pattern))
            assert answer.status_code == 207, answer.text
            assert answer.text.count("<d:response>") == hits, pattern
            total = answer.headers.get("Content-Range", "/0").rpartition("/")[2]
            assert int(total) == hits, (pattern, answer.headers)
        mine = alice.request("REPORT", f"{live.dav()}/", data=SEARCH.format("salary"))
        assert mine.text.count("<d:response>") == 1  # its owner still finds it
    finally:
        server.stop()
