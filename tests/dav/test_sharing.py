"""Shares and links as WebDAV shows them: ``oc:permissions`` and
``oc:share-types`` from the permission decision, the share jail's listing,
and listings that leave out what the caller may not see."""

from __future__ import annotations

import pytest
import requests
from lxml import etree

from app import links, roles, shares, spaces, users
from app.auth.principal import Principal
from app.errors import Forbidden
from app.perms import Perm
from tests.conftest import LiveServer

NS = {"d": "DAV:", "oc": "http://owncloud.org/ns"}
JAIL = shares.JAIL_DRIVE_ID
PROPS = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
    "<d:prop><oc:permissions/><oc:share-types/><oc:name/></d:prop></d:propfind>"
)


def principal(name: str) -> Principal:
    return Principal(user_id=str(users.get(name).id), name=name)


def item(live: LiveServer, owner: str, *parts: str):
    space = spaces.personal_space(users.get(owner))
    found = live.app.grove.tree(space).item(list(parts))
    assert found is not None
    return found


def propfind(
    session: requests.Session | None, url: str, depth: str = "1", auth=None
) -> dict[str, dict[str, object]]:
    """name -> {permissions, share-types} for each response."""
    sender = session or requests
    answer = sender.request(
        "PROPFIND", url, data=PROPS, headers={"Depth": depth}, auth=auth
    )
    assert answer.status_code == 207, answer.text
    out: dict[str, dict[str, object]] = {}
    for response in etree.fromstring(answer.content).findall("d:response", NS):
        name = response.findtext(".//oc:name", namespaces=NS) or ""
        out[name] = {
            "permissions": response.findtext(".//oc:permissions", namespaces=NS),
            "share-types": sorted(
                int(t.text)
                for t in response.findall(".//oc:share-types/oc:share-type", NS)
            ),
        }
    return out


@pytest.fixture
def shared(live: LiveServer, alice: requests.Session) -> dict[str, requests.Session]:
    """alice's Docs (with a.txt and a folder Sub) shared with bob as Editor
    and by a view link; her Notes with the group team (carol) as Viewer."""
    live.add_user("bob")
    live.add_user("carol")
    home = live.user_root("alice")
    (home / "Docs" / "Sub").mkdir(parents=True)
    (home / "Docs" / "a.txt").write_bytes(b"a")
    (home / "Notes").mkdir()
    (home / "Notes" / "n.txt").write_bytes(b"n")
    (home / "Private").mkdir()
    from app import groups

    team = groups.create("team")
    groups.add_member(team, users.get("carol"))
    owner = principal("alice")
    docs = item(live, "alice", "Docs")
    shares.share(
        owner, docs, Perm.owner(), grantee_type="user", grantee_id="bob", role="Editor"
    )
    links.create(owner, docs, Perm.owner(), link_type="view")
    notes = item(live, "alice", "Notes")
    shares.share(
        owner,
        notes,
        Perm.owner(),
        grantee_type="group",
        grantee_id="team",
        role="Viewer",
    )
    return {"alice": alice, "bob": live.session("bob"), "carol": live.session("carol")}


def test_the_owner_sees_share_types(live: LiveServer, shared) -> None:
    listed = propfind(shared["alice"], f"{live.dav()}/")

    assert listed["Docs"]["share-types"] == [0, 3]
    assert listed["Notes"]["share-types"] == [1]
    assert listed["Private"]["share-types"] == []
    assert listed["Docs"]["permissions"] == "RDNVCK"


def test_a_recipient_sees_letters_from_their_role(live: LiveServer, shared) -> None:
    editor = propfind(shared["bob"], f"{live.url}/dav/spaces/{JAIL}/Docs")
    viewer = propfind(shared["carol"], f"{live.url}/dav/spaces/{JAIL}/Notes")

    # The mount itself is neither deleted nor renamed through the jail.
    assert editor["Docs"]["permissions"] == "SMCK"
    assert editor["a.txt"]["permissions"] == "SDNVW"
    assert editor["Sub"]["permissions"] == "SDNVCK"
    assert viewer["Notes"]["permissions"] == "SM"
    assert viewer["n.txt"]["permissions"] == "S"


def test_the_jail_lists_only_what_was_shared_with_the_caller(
    live: LiveServer, shared
) -> None:
    bob = propfind(shared["bob"], f"{live.url}/dav/spaces/{JAIL}/")
    carol = propfind(shared["carol"], f"{live.dav('carol')}/Shares/")

    legacy = propfind(shared["carol"], f"{live.url}/remote.php/webdav/Shares/")

    assert set(bob) == {"Shares", "Docs"}
    assert set(carol) == {"Shares", "Notes"}
    assert legacy == carol


def test_what_the_caller_may_not_see_does_not_exist(live: LiveServer, shared) -> None:
    bob = shared["bob"]
    for url in (
        f"{live.dav()}/",
        f"{live.dav()}/Private",
        f"{live.dav()}/Notes/n.txt",
        f"{live.url}/dav/spaces/{JAIL}/Notes",
    ):
        answer = bob.request("PROPFIND", url, headers={"Depth": "1"})
        assert answer.status_code in (403, 404), url
        assert "Private" not in answer.text and "n.txt" not in answer.text
    assert bob.get(f"{live.dav()}/Docs/a.txt").status_code in (403, 404)


def test_a_file_drop_link_lists_nothing_and_secure_view_downloads_nothing(
    live: LiveServer, shared
) -> None:
    owner = principal("alice")
    docs = item(live, "alice", "Docs")
    drop = links.create(owner, docs, Perm.owner(), link_type="createOnly")
    secure = links.create(owner, docs, Perm.owner(), link_type="blocksDownload")
    base = f"{live.url}/dav/public-files"

    dropped = propfind(None, f"{base}/{drop.link_token}/")
    assert list(dropped) == ["Docs"]
    dropped_file = requests.put(f"{base}/{drop.link_token}/new.txt", data=b"x")
    assert dropped_file.status_code == 201
    assert requests.get(f"{base}/{drop.link_token}/a.txt").status_code in (403, 404)
    seen = propfind(None, f"{base}/{secure.link_token}/")
    assert {"a.txt", "Sub"} <= set(seen)
    assert requests.get(f"{base}/{secure.link_token}/a.txt").status_code == 403


def test_sharing_never_gives_more_than_one_holds(live: LiveServer, shared) -> None:
    owner = principal("alice")
    docs = item(live, "alice", "Docs")
    viewer_and_share = roles.VIEWER.perms | Perm.SHARE

    with pytest.raises(Forbidden, match="above your own rights"):
        shares.share(
            owner,
            docs,
            viewer_and_share,
            grantee_type="user",
            grantee_id="carol",
            role="Editor",
        )
    with pytest.raises(Forbidden, match="above your own rights"):
        links.create(owner, docs, viewer_and_share, link_type="edit")
    made = shares.share(
        owner,
        docs,
        viewer_and_share,
        grantee_type="user",
        grantee_id="carol",
        role="Viewer",
    )
    with pytest.raises(Forbidden, match="above your own rights"):
        shares.update(owner, made, docs, viewer_and_share, role="Editor")
    assert shares.get(str(made.id)).role == roles.VIEWER.id
