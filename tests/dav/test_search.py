"""REPORT oc:search-files end to end: files put through WebDAV, indexed by the
durable jobs, found by KQL; shares, group shares and project spaces decide
who finds what, and nobody sees a name or snippet of a file they may not read.

Runs once with SQLite FTS5 and once with the Elasticsearch backend against
the STAND-IN server of tests/search/es_standin.py; a third time against a
real Elasticsearch server when GROVE_TEST_ELASTICSEARCH_URL names one.
"""

from __future__ import annotations

import html
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import requests
from lxml import etree

from app import groups, jobs, roles, shares, spaces, tags, users
from app.auth.principal import Principal
from app.models import Space
from app.perms import Perm
from app.search import kql
from app.search.query import Range
from tests.conftest import LiveServer, make_settings, start_server
from tests.search.es_standin import StandIn

D = "{DAV:}"
OC = "{http://owncloud.org/ns}"
JAIL = shares.JAIL_DRIVE_ID

FILES = {
    "hello.txt": b"the quick brown fox jumps",
    "Private/diary.txt": b"my secret fox diary",
    "Shared/plan.md": b"# Plan\n\nthe fox project plan",
    "Shared/sub/deep.txt": b"a deep fox burrow",
    "Viewonly/notes.txt": b"fox notes for the eyes only",
    "team.txt": b"fox facts for the team",
    "~$draft.docx": b"fox in an office lock file",
    ".~lock.hello.txt#": b"fox in a LibreOffice lock",
}


@dataclass
class World:
    live: LiveServer
    project: Space

    def session(self, user: str) -> requests.Session:
        return self.live.session(user)


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    server = StandIn()
    try:
        yield server
    finally:
        server.stop()


SERVER_URL = os.environ.get("GROVE_TEST_ELASTICSEARCH_URL", "")
BACKENDS = ["fts5", "elasticsearch-standin"] + (
    ["elasticsearch-server"] if SERVER_URL else []
)


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    standin: StandIn,
) -> Iterator[World]:
    overrides: dict[str, str] = {}
    if request.param.startswith("elasticsearch"):
        real = request.param == "elasticsearch-server"
        overrides = {
            "search_backend": "elasticsearch",
            "search_elasticsearch_url": SERVER_URL if real else standin.url,
            "search_elasticsearch_index": f"grove-{uuid.uuid4().hex[:8]}",
        }
    data = tmp_path_factory.mktemp("search") / "data"
    server, live = start_server(make_settings(data, **overrides))
    try:
        yield _build(live)
    finally:
        server.stop()


def _principal(name: str) -> Principal:
    return Principal(user_id=str(users.get(name).id), name=name)


def _build(live: LiveServer) -> World:
    for name in ("alice", "bob", "carol", "dave"):
        live.add_user(name)
    alice = live.session("alice")
    for folder in ("Private", "Shared", "Shared/sub", "Viewonly"):
        assert alice.request("MKCOL", f"{live.dav()}/{folder}").status_code == 201
    for path, body in FILES.items():
        answer = alice.put(f"{live.dav()}/{quote(path)}", data=body)
        assert answer.status_code in (201, 204), (path, answer.text)

    owner = _principal("alice")
    tree = live.app.grove.tree(spaces.personal_space(users.get("alice")))

    def share(path: str, grantee_type: str, grantee: str, role: str) -> None:
        item = tree.item(path.split("/"))
        shares.share(
            owner,
            item,
            Perm.owner(),
            grantee_type=grantee_type,
            grantee_id=grantee,
            role=role,
        )

    share("Shared", "user", "bob", roles.VIEWER.id)
    share("Viewonly", "user", "carol", roles.SECURE_VIEWER.id)
    team = groups.create("team")
    groups.add_member(team, users.get("dave"))
    share("team.txt", "group", "team", roles.VIEWER.id)
    tags.assign(tree.item(["hello.txt"]).id, ["Urgent"])

    project = spaces.create_project(
        live.settings.storage_dir, "Apollo", creator=users.get("alice")
    )
    spaces.add_member(project, "user", str(users.get("bob").id), "SpaceViewer")
    rocket = f"{live.url}/dav/spaces/{spaces.drive_id(project)}/rocket.txt"
    assert alice.put(rocket, data=b"fox on a rocket").status_code == 201

    jobs.run_pending()
    return World(live, project)


def body(pattern: str, limit: int | None = None, offset: int | None = None) -> str:
    extra = "" if limit is None else f"<oc:limit>{limit}</oc:limit>"
    extra += "" if offset is None else f"<oc:offset>{offset}</oc:offset>"
    pattern = pattern.replace("&", "&amp;").replace("<", "&lt;")
    return (
        '<?xml version="1.0"?><oc:search-files xmlns:d="DAV:" '
        'xmlns:oc="http://owncloud.org/ns"><oc:search>'
        f"<oc:pattern>{pattern}</oc:pattern>{extra}</oc:search></oc:search-files>"
    )


def report(
    session: requests.Session, url: str, pattern: str, **page: int
) -> requests.Response:
    return session.request("REPORT", url, data=body(pattern, **page))


def hits(answer: requests.Response) -> dict[str, dict[str, str]]:
    """oc:name -> {href, and each property's local name: text}."""
    assert answer.status_code == 207, answer.text
    found: dict[str, dict[str, str]] = {}
    for response in etree.fromstring(answer.content).iter(f"{D}response"):
        props = {"href": str(response.findtext(f"{D}href"))}
        for prop in response.iter(f"{D}prop"):
            for element in prop:
                props[etree.QName(element).localname] = element.text or ""
        found[props["name"]] = props
    return found


def names(world: World, user: str, pattern: str, url: str | None = None) -> set[str]:
    target = url or f"{world.live.dav(user)}/"
    return set(hits(report(world.session(user), target, pattern)))


def test_the_owner_finds_names_and_content_but_no_lock_files(world: World) -> None:
    assert names(world, "alice", "fox") == {
        "hello.txt",
        "diary.txt",
        "plan.md",
        "deep.txt",
        "notes.txt",
        "team.txt",
        "rocket.txt",
    }
    assert names(world, "alice", "name:diary*") == {"diary.txt"}
    assert names(world, "alice", 'content:"brown fox"') == {"hello.txt"}
    assert names(world, "alice", "name:*.docx") == set()
    assert names(world, "alice", "name:*lock*") == set()


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("bob", {"plan.md", "deep.txt", "rocket.txt"}),  # share + project member
        ("carol", set()),  # a secure-view share: she may not read the content
        ("dave", {"team.txt"}),  # through his group
    ],
)
def test_each_user_finds_only_what_they_may_read(
    world: World, user: str, expected: set[str]
) -> None:
    assert names(world, user, "fox") == expected
    assert names(world, user, "name:*") - {"Shared", "sub"} == expected


@pytest.mark.parametrize("user", ["bob", "carol", "dave"])
def test_nothing_of_an_unreadable_file_leaks(world: World, user: str) -> None:
    for pattern in ("secret", "diary", "name:diary.txt", 'content:"secret fox"'):
        answer = report(world.session(user), f"{world.live.dav(user)}/", pattern)
        assert hits(answer) == {}
        assert b"diary" not in answer.content and b"secret" not in answer.content
        assert answer.headers["Content-Range"].endswith("/0")


def test_a_hit_through_a_share_carries_the_reference_properties(
    world: World,
) -> None:
    bob = world.session("bob")
    found = hits(report(bob, f"{world.live.dav('bob')}/", "content:fox burrow"))
    hit = found["deep.txt"]
    alice_space = spaces.personal_space(users.get("alice"))
    shared = world.live.app.grove.tree(alice_space).item(["Shared"])
    deep = world.live.app.grove.tree(alice_space).item(["Shared", "sub", "deep.txt"])
    sub = world.live.app.grove.tree(alice_space).item(["Shared", "sub"])
    assert hit["fileid"] == spaces.resource_id(alice_space, deep.id)
    assert hit["file-parent"] == spaces.resource_id(alice_space, sub.id)
    assert hit["remote-item-id"] == spaces.resource_id(alice_space, shared.id)
    assert hit["shareroot"] == "Shared"
    [grant] = shares.received(str(users.get("bob").id), [shared.id])
    assert hit["shareid"] == grant.id
    assert hit["permissions"] == "S"  # a Viewer's letters for a shared file
    assert "<mark>burrow</mark>" in hit["highlights"]
    assert (
        hit["size"] == hit["getcontentlength"] == str(len(FILES["Shared/sub/deep.txt"]))
    )
    assert hit["getcontenttype"] == "text/plain"
    assert float(hit["score"]) > 0
    assert hit["getetag"].startswith('"')
    # The href leads through the recipient's share jail, and works for them.
    assert hit["href"] == f"/dav/spaces/{JAIL}/Shared/sub/deep.txt"
    got = bob.get(world.live.url + hit["href"])
    assert got.content == FILES["Shared/sub/deep.txt"], (hit["href"], got.text)


def test_own_hits_carry_tags_and_open_at_their_href(world: World) -> None:
    alice = world.session("alice")
    found = hits(report(alice, f"{world.live.dav()}/", "tag:urgent"))
    assert set(found) == {"hello.txt"}
    hit = found["hello.txt"]
    assert hit["tags"] == "Urgent"
    assert "shareid" not in hit
    assert alice.get(world.live.url + hit["href"]).content == FILES["hello.txt"]


def test_a_space_or_folder_url_narrows_the_search(world: World) -> None:
    live = world.live
    project_url = f"{live.url}/dav/spaces/{spaces.drive_id(world.project)}"
    assert names(world, "bob", "fox", project_url) == {"rocket.txt"}
    assert names(world, "alice", "fox", f"{live.dav()}/Shared") == {
        "plan.md",
        "deep.txt",
    }
    jail_folder = f"{live.url}/dav/spaces/{JAIL}/Shared/sub"
    assert names(world, "bob", "fox", jail_folder) == {"deep.txt"}
    assert names(world, "bob", "fox", f"{live.url}/dav/spaces/{JAIL}") == {
        "plan.md",
        "deep.txt",
    }


def test_kql_scope_narrows_to_a_folder_or_space_and_never_widens(
    world: World,
) -> None:
    alice_space = spaces.personal_space(users.get("alice"))
    tree = world.live.app.grove.tree(alice_space)
    shared = spaces.resource_id(alice_space, tree.item(["Shared"]).id)
    private = spaces.resource_id(alice_space, tree.item(["Private"]).id)
    assert names(world, "alice", f"fox scope:{shared}") == {"plan.md", "deep.txt"}
    assert names(world, "alice", f"scope:{shared}") == {"plan.md", "sub", "deep.txt"}
    assert names(world, "bob", f"fox scope:{spaces.drive_id(alice_space)}") == {
        "plan.md",
        "deep.txt",
    }
    assert names(world, "bob", f"fox scope:{private}") == set()
    answer = report(
        world.session("alice"), f"{world.live.dav()}/", f"a OR scope:{shared}"
    )
    assert answer.status_code == 400 and "outside OR and NOT" in answer.text


def test_a_space_the_user_may_not_read_is_not_searched(world: World) -> None:
    alice_drive = world.live.drive_id(world.session("alice"))
    answer = report(
        world.session("carol"), f"{world.live.url}/dav/spaces/{alice_drive}", "fox"
    )
    assert answer.status_code == 404
    assert b"fox" not in answer.content


def test_limit_offset_and_the_total(world: World) -> None:
    alice = world.session("alice")
    url = f"{world.live.dav()}/"
    first = report(alice, url, "fox", limit=3)
    rest = report(alice, url, "fox", limit=10, offset=3)
    assert first.headers["Content-Range"] == "rows 0-2/7"
    assert rest.headers["Content-Range"] == "rows 3-6/7"
    assert len(hits(first)) == 3 and len(hits(rest)) == 4
    assert not set(hits(first)) & set(hits(rest))


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("name:(", "invalid search pattern"),
        ("colour:red", "unknown property 'colour'"),
        ("size>lots", "invalid size 'lots'"),
        ("mtime:someday", "invalid time 'someday'"),
        ("mediatype:nonsense", "unknown media type 'nonsense'"),
    ],
)
def test_a_pattern_that_is_not_kql_is_refused_with_its_reason(
    world: World, pattern: str, message: str
) -> None:
    answer = report(world.session("alice"), f"{world.live.dav()}/", pattern)
    assert answer.status_code == 400
    assert message in html.unescape(answer.text)


def test_a_report_without_pattern_or_with_a_bad_limit_is_refused(
    world: World,
) -> None:
    alice = world.session("alice")
    url = f"{world.live.dav()}/"
    empty = alice.request("REPORT", url, data=body("").replace("<oc:pattern>", "<x>"))
    assert empty.status_code == 400
    bad = alice.request(
        "REPORT",
        url,
        data=body("fox").replace(
            "</oc:pattern>", "</oc:pattern><oc:limit>ten</oc:limit>"
        ),
    )
    assert bad.status_code == 400 and "oc:limit" in bad.text


def test_a_move_out_of_a_share_hides_the_file_at_once(world: World) -> None:
    live = world.live
    alice, bob = world.session("alice"), world.session("bob")
    assert (
        alice.put(f"{live.dav()}/Shared/moving.txt", data=b"zebra").status_code == 201
    )
    jobs.run_pending()
    assert names(world, "bob", "zebra") == {"moving.txt"}

    moved = alice.request(
        "MOVE",
        f"{live.dav()}/Shared/moving.txt",
        headers={"Destination": f"{live.dav()}/Private/moving.txt"},
    )
    assert moved.status_code == 201
    # Before the indexing job ran: the index is behind, the answer is not.
    answer = report(bob, f"{live.dav('bob')}/", "zebra")
    assert hits(answer) == {} and b"moving" not in answer.content
    jobs.run_pending()
    assert names(world, "bob", "zebra") == set()
    assert names(world, "alice", "zebra") == {"moving.txt"}

    assert alice.delete(f"{live.dav()}/Private/moving.txt").status_code == 204
    jobs.run_pending()
    assert names(world, "alice", "zebra") == set()


def test_capabilities_advertise_the_kql_properties_grove_parses(
    world: World,
) -> None:
    answer = world.session("alice").get(
        f"{world.live.url}/ocs/v2.php/cloud/capabilities?format=json"
    )
    caps = answer.json()["ocs"]["data"]["capabilities"]
    assert caps["dav"]["reports"] == ["search-files"]
    properties = caps["search"]["property"]
    assert set(properties) == {
        "name",
        "mtime",
        "size",
        "mediatype",
        "type",
        "tag",
        "tags",
        "content",
        "scope",
    }
    for keyword in properties["mtime"]["keywords"]:
        assert isinstance(kql.parse(f'mtime:"{keyword}"'), Range)
    for keyword in properties["mediatype"]["keywords"]:
        kql.parse(f"mediatype:{keyword}")  # a keyword Grove knows
