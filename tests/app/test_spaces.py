"""Project spaces in the core: folders, members, lifecycle, quotas, audit."""

from __future__ import annotations

import pytest

from app import acl, quota, roles, spaces, users
from app.auth.principal import Principal
from app.errors import BadRequest, Conflict, Forbidden, InsufficientStorage
from app.factory import create_app
from app.models import AuditEvent, Grant, Node, Space, TrashItem


@pytest.fixture
def grove(settings):
    app = create_app(settings)
    users.add(settings.storage_dir, "alice", "correct horse battery")
    users.add(settings.storage_dir, "bob", "correct horse battery")
    return app.grove


def alice() -> Principal:
    user = users.get("alice")
    return Principal(user.id, user.name)


def make(grove, name="Mars", **options):
    return spaces.create_project(
        grove.storage_dir, name, creator=users.get("alice"), **options
    )


def actions() -> list[str]:
    return [row.action for row in AuditEvent.select().order_by(AuditEvent.id)]


def test_folder_names_are_sanitised_unique_and_fixed(grove):
    first = make(grove, "Mars/Base")
    second = make(grove, "Mars/Base")
    assert first.folder != second.folder
    assert all(space.folder.startswith("projects/") for space in (first, second))
    assert (grove.storage_dir / first.folder).is_dir()
    spaces.update(first, name="Phobos")
    again = Space.get_by_id(first.id)
    assert (again.name, again.folder) == ("Phobos", first.folder)
    assert "space_created" in actions() and "space_renamed" in actions()


def test_creator_is_manager_and_roles_map_to_permissions(grove):
    space = make(grove)
    assert acl.may_manage_space(alice(), space)
    bob = users.get("bob")
    spaces.add_member(space, "user", bob.id, roles.SPACE_VIEWER.id)
    as_bob = Principal(bob.id, bob.name)
    perms = acl.permissions(as_bob, space, ["file"])
    assert acl.Perm.READ in perms and acl.Perm.WRITE not in perms
    assert not acl.may_manage_space(as_bob, space)
    with pytest.raises(Conflict):
        spaces.add_member(space, "user", bob.id, roles.SPACE_EDITOR.id)
    with pytest.raises(BadRequest):
        spaces.add_member(space, "user", bob.id, roles.EDITOR.id)
    assert "space_shared" in actions()


def test_last_manager_stays(grove):
    space = make(grove)
    (manager,) = spaces.members(space)
    with pytest.raises(Forbidden):
        spaces.remove_member(space, manager)
    with pytest.raises(Forbidden):
        spaces.update_member(space, manager, role_id=roles.SPACE_VIEWER.id)
    bob = users.get("bob")
    other = spaces.add_member(space, "user", bob.id, roles.MANAGER.id)
    spaces.remove_member(space, manager)
    assert [grant.id for grant in spaces.members(space)] == [other.id]
    assert "space_unshared" in actions()


def test_disable_restore_purge(grove):
    space = make(grove)
    folder = grove.storage_dir / space.folder
    (folder / "a.txt").write_bytes(b"a")
    with pytest.raises(BadRequest):
        spaces.purge(grove.storage_dir, grove.settings.state_dir, space)
    spaces.disable(space)
    assert acl.permissions(alice(), space, []) == acl.Perm.NONE
    assert acl.may_manage_space(alice(), space)
    spaces.restore(space)
    assert acl.Perm.READ in acl.permissions(alice(), space, [])
    spaces.disable(space)
    spaces.purge(grove.storage_dir, grove.settings.state_dir, space)
    assert not folder.exists()
    assert Space.get_or_none(Space.id == space.id) is None
    assert not Grant.select().where(Grant.space == space.id).exists()
    assert (
        actions()[-3:] == ["space_enabled", "space_disabled", "space_deleted"][-3:]
        or "space_deleted" in actions()
    )


def test_personal_spaces_are_not_disabled(grove):
    personal = spaces.personal_space(users.get("alice"))
    with pytest.raises(Forbidden):
        spaces.disable(personal)


def test_quota_figures_and_states(grove):
    space = make(grove, quota_total=1000)
    grove.tree(space).item([])  # the root's row, made on first sight
    Node.update(tree_size=700).where(Node.id == space.id).execute()
    TrashItem.create(
        id="t1", space=space.id, node_id="n1", name="x", original_path="", size=100
    )
    usage = quota.usage(space, disk_free=10**9)
    assert (usage.total, usage.used, usage.deleted, usage.remaining) == (
        1000,
        800,
        100,
        200,
    )
    assert usage.state == "nearing"
    assert [quota.state(used, 100) for used in (75, 76, 91, 100, 101)] == [
        "normal",
        "nearing",
        "critical",
        "exceeded",
        "exceeded",
    ]
    quota.check(space, 200)
    with pytest.raises(InsufficientStorage):
        quota.check(space, 201)
    quota.check(space, -50)  # shrinking always passes


def test_default_quota_applies_to_spaces_without_their_own(grove):
    space = make(grove)
    assert quota.total(space) == 0
    quota.configure(5000)
    try:
        assert quota.total(space) == 5000
        spaces.update(space, quota_total=0)
        assert quota.total(space) == 0
    finally:
        quota.configure(0)
