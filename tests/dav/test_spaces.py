"""Project spaces over WebDAV: members' roles, hidden from others, quotas."""

from __future__ import annotations

import pytest
import requests
from lxml import etree

from app import links, quota, roles, shares, spaces, users
from app.auth.principal import Principal
from app.models import Grant, Space, Version
from app.perms import Perm
from tests.graph.contract import assert_conforms

NS = {"d": "DAV:", "oc": "http://owncloud.org/ns"}
QUOTA = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop>'
    "<d:quota-used-bytes/><d:quota-available-bytes/></d:prop></d:propfind>"
)


def project(live, name="Mars", **options):
    """A project space made by alice, with its DAV URL."""
    space = spaces.create_project(
        live.settings.storage_dir, name, creator=users.get("alice"), **options
    )
    return space, f"{live.url}/dav/spaces/{spaces.drive_id(space)}"


def member(live, space, name, role):
    live.add_user(name)
    user = users.get(name)
    spaces.add_member(space, "user", user.id, role.id)
    return live.session(name)


def test_members_use_the_space_by_role(live, alice):
    space, url = project(live)
    assert alice.put(f"{url}/plan.txt", data=b"v1").status_code == 201
    bob = member(live, space, "bob", roles.SPACE_VIEWER)
    carol = member(live, space, "carol", roles.SPACE_EDITOR)

    assert bob.get(f"{url}/plan.txt").content == b"v1"
    assert bob.put(f"{url}/plan.txt", data=b"bob").status_code == 403
    assert bob.put(f"{url}/new.txt", data=b"bob").status_code == 403
    assert bob.request("MKCOL", f"{url}/dir").status_code == 403
    assert bob.delete(f"{url}/plan.txt").status_code == 403

    assert carol.put(f"{url}/plan.txt", data=b"v2").status_code == 204
    assert carol.request("MKCOL", f"{url}/dir").status_code == 201
    assert carol.put(f"{url}/dir/c.txt", data=b"c").status_code == 201
    assert carol.delete(f"{url}/dir/c.txt").status_code == 204
    assert (
        live.settings.storage_dir / "projects" / "Mars" / "plan.txt"
    ).read_bytes() == b"v2"


def test_space_is_hidden_from_non_members(live, alice):
    space, url = project(live)
    alice.put(f"{url}/secret.txt", data=b"x")
    live.add_user("eve")
    eve = live.session("eve")
    missing = url.rpartition("$")[0] + "$00000000-0000-4000-8000-000000000000"
    for method, path in (
        ("PROPFIND", "/"),
        ("GET", "/secret.txt"),
        ("PUT", "/secret.txt"),
        ("DELETE", "/secret.txt"),
        ("MKCOL", "/dir"),
        ("LOCK", "/secret.txt"),
    ):
        answer = eve.request(method, url + path, data=b"")
        # Exactly what a space that does not exist answers: nothing leaks.
        expected = eve.request(method, missing + path, data=b"").status_code
        assert answer.status_code == expected, (method, path)
        assert answer.status_code in (400, 404, 409), (method, path)
    assert eve.request("PROPFIND", f"{url}/", headers={"Depth": "0"}).status_code == 404
    assert eve.get(f"{url}/secret.txt").status_code == 404


def test_group_members_get_their_groups_role(live, alice):
    from app.models import Group, GroupMember

    space, url = project(live)
    alice.put(f"{url}/a.txt", data=b"a")
    live.add_user("dan")
    with_group = Group.create(id="g-team", name="team")
    GroupMember.create(group=with_group.id, user=users.get("dan").id)
    spaces.add_member(space, "group", "g-team", roles.SPACE_VIEWER.id)
    dan = live.session("dan")
    assert dan.get(f"{url}/a.txt").content == b"a"
    assert dan.put(f"{url}/a.txt", data=b"d").status_code == 403


def test_listing_asks_for_membership_once(live, alice, monkeypatch):
    from app import acl

    space, url = project(live)
    bob = member(live, space, "bob", roles.SPACE_VIEWER)
    for index in range(20):
        alice.put(f"{url}/f{index}.txt", data=b"x")
    calls = []
    original = acl._member_perms

    def counting(principal, space):
        calls.append(space.id)
        return original(principal, space)

    monkeypatch.setattr(acl, "_member_perms", counting)
    answer = bob.request("PROPFIND", f"{url}/", headers={"Depth": "1"})
    assert answer.status_code == 207
    assert answer.text.count("<D:response>") == 21
    assert len(calls) == 1


def test_expired_membership_gives_no_access(live, alice):
    space, url = project(live)
    bob = member(live, space, "bob", roles.SPACE_EDITOR)
    Grant.update(expires=1.0).where(Grant.grantee_id == users.get("bob").id).execute()
    assert bob.request("PROPFIND", f"{url}/").status_code == 404


def test_disabled_space_refuses_everyone_until_restored(live, alice):
    space, url = project(live)
    alice.put(f"{url}/a.txt", data=b"a")
    spaces.disable(space)
    assert alice.get(f"{url}/a.txt").status_code == 404
    assert alice.put(f"{url}/b.txt", data=b"b").status_code in (404, 409)
    spaces.restore(Space.get_by_id(space.id))
    assert alice.get(f"{url}/a.txt").content == b"a"


def test_upload_over_quota_is_refused_and_keeps_old_content(live, alice):
    space, url = project(live, quota_total=1000)
    assert alice.put(f"{url}/a.bin", data=b"a" * 600).status_code == 201
    answer = alice.put(f"{url}/a.bin", data=b"b" * 1200)
    assert answer.status_code == 507
    assert alice.get(f"{url}/a.bin").content == b"a" * 600
    assert alice.put(f"{url}/new.bin", data=b"c" * 500).status_code == 507
    assert alice.get(f"{url}/new.bin").status_code == 404
    # Replacing with less, or adding what still fits, passes.
    assert alice.put(f"{url}/a.bin", data=b"d" * 900).status_code == 204
    assert alice.put(f"{url}/small.bin", data=b"e" * 100).status_code == 201
    staging = live.settings.state_dir / "uploads"
    assert not list(staging.glob("*.put"))


def test_copy_into_a_full_space_is_refused(live, alice):
    space, url = project(live, quota_total=1000)
    home = f"{live.url}/dav/spaces/{live.drive_id(alice)}"
    alice.put(f"{home}/big.bin", data=b"x" * 800)
    alice.put(f"{url}/half.bin", data=b"y" * 600)
    answer = alice.request(
        "COPY", f"{home}/big.bin", headers={"Destination": f"{url}/big.bin"}
    )
    assert answer.status_code == 507
    assert alice.get(f"{url}/big.bin").status_code == 404
    inside = alice.request(
        "COPY", f"{url}/half.bin", headers={"Destination": f"{url}/copy.bin"}
    )
    assert inside.status_code == 507


@pytest.mark.parametrize("where", ["root", "folder"])
def test_propfind_reports_the_space_quota(live, alice, where):
    space, url = project(live, quota_total=10_000)
    alice.request("MKCOL", f"{url}/dir")
    alice.put(f"{url}/dir/a.bin", data=b"a" * 3000)
    target = f"{url}/" if where == "root" else f"{url}/dir/"
    answer = alice.request("PROPFIND", target, data=QUOTA, headers={"Depth": "0"})
    tree = etree.fromstring(answer.content)
    assert tree.findtext(".//d:quota-used-bytes", namespaces=NS) == "3000"
    assert tree.findtext(".//d:quota-available-bytes", namespaces=NS) == "7000"
    usage = quota.usage(Space.get_by_id(space.id), disk_free=10**12)
    assert (usage.total, usage.used, usage.remaining, usage.state) == (
        10_000,
        3000,
        7000,
        "normal",
    )


def test_move_into_a_full_space_is_refused(live, alice):
    space, url = project(live, quota_total=1000)
    home = f"{live.url}/dav/spaces/{live.drive_id(alice)}"
    alice.put(f"{home}/big.bin", data=b"x" * 800)
    alice.put(f"{url}/half.bin", data=b"y" * 600)
    answer = alice.request(
        "MOVE", f"{home}/big.bin", headers={"Destination": f"{url}/big.bin"}
    )
    assert answer.status_code == 507
    assert alice.get(f"{url}/big.bin").status_code == 404
    assert alice.get(f"{home}/big.bin").content == b"x" * 800
    # Within the space a move adds nothing: it passes, however full the space.
    alice.put(f"{url}/more.bin", data=b"z" * 400)
    inside = alice.request(
        "MOVE", f"{url}/half.bin", headers={"Destination": f"{url}/moved.bin"}
    )
    assert inside.status_code == 201
    # Out of the space and back in what fits passes.
    out = alice.request(
        "MOVE", f"{url}/moved.bin", headers={"Destination": f"{home}/moved.bin"}
    )
    assert out.status_code == 201
    back = alice.request(
        "MOVE", f"{home}/moved.bin", headers={"Destination": f"{url}/moved.bin"}
    )
    assert back.status_code == 201


def test_trash_counts_toward_the_quota_versions_do_not(live, alice):
    space, url = project(live, quota_total=1000)
    drive = f"{live.url}/graph/v1.0/drives/{spaces.drive_id(space)}"

    def figures() -> tuple[int, int, int]:
        answer = alice.get(drive, timeout=10)
        assert_conforms(answer)
        found = answer.json()["quota"]
        return found["used"], found["deleted"], found["remaining"]

    assert alice.put(f"{url}/a.bin", data=b"1" * 400).status_code == 201
    assert alice.put(f"{url}/a.bin", data=b"2" * 400).status_code == 204
    assert Version.select().where(Version.space == space.id).count() == 1
    assert figures() == (400, 0, 600)  # the version of the first content is free
    assert alice.delete(f"{url}/a.bin").status_code == 204
    assert figures() == (400, 400, 600)
    assert alice.put(f"{url}/b.bin", data=b"3" * 700).status_code == 507
    assert alice.put(f"{url}/b.bin", data=b"3" * 600).status_code == 201
    assert figures() == (1000, 400, 0)
    assert alice.get(drive).json()["quota"]["state"] == "exceeded"


def test_a_disabled_space_takes_its_shares_links_and_trash_along(live, alice):
    space, url = project(live)
    live.add_user("bob")
    alice.request("MKCOL", f"{url}/docs")
    alice.put(f"{url}/docs/a.txt", data=b"a")
    alice.put(f"{url}/gone.txt", data=b"g")
    alice.delete(f"{url}/gone.txt")
    docs = live.app.grove.tree(space).item(["docs"])
    owner = Principal(users.get("alice").id, "alice")
    shares.share(
        owner, docs, Perm.owner(), grantee_type="user", grantee_id="bob", role="Viewer"
    )
    link = links.create(owner, docs, Perm.owner(), link_type="view")
    bob = live.session("bob")
    jail = f"{live.url}/remote.php/dav/files/bob/Shares"
    public = f"{live.url}/dav/public-files/{link.link_token}/a.txt"
    trash = f"{live.url}/dav/spaces/trash-bin/{spaces.drive_id(space)}/"
    assert bob.get(f"{jail}/docs/a.txt").content == b"a"
    assert requests.get(public, timeout=10).content == b"a"
    assert alice.request("PROPFIND", trash, headers={"Depth": "1"}).status_code == 207

    spaces.disable(space)
    listed = bob.request("PROPFIND", f"{jail}/", headers={"Depth": "1"})
    assert listed.status_code == 207 and "docs" not in listed.text
    assert bob.get(f"{jail}/docs/a.txt").status_code == 404
    assert requests.get(public, timeout=10).status_code == 404
    assert alice.request("PROPFIND", trash, headers={"Depth": "1"}).status_code == 404

    spaces.restore(Space.get_by_id(space.id))
    assert bob.get(f"{jail}/docs/a.txt").content == b"a"
    assert requests.get(public, timeout=10).content == b"a"
