"""Spaces: a folder below storage/ with an id; personal ones belong to a user,
project ones to their members (grants on the space root, app.roles SPACE_ROLES).

Lifecycle of a project space: created (its creator is its Manager), renamed
(the folder keeps its name), disabled (members lose access), restored, purged.
"""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from app import audit, db, roles, rows
from app.errors import BadRequest, Conflict, Forbidden, NotFound
from app.migrate import storage_id
from app.models import (
    DeadProperty,
    Favorite,
    Grant,
    Group,
    GroupMember,
    Lock,
    Node,
    Space,
    Tag,
    User,
)
from app.search import hooks as search_hooks
from app.storage import ids
from app.storage.names import folder_name, is_text


class Unset:
    """An argument the caller left out, where None has a meaning of its own."""


UNSET = Unset()


def drive_id(space: Space) -> str:
    """The id clients see: ``<storage-id>$<space-id>``."""
    return f"{storage_id()}${space.id}"


def resource_id(space: Space, node_id: str) -> str:
    """``<storage-id>$<space-id>!<node-id>``, as OpenCloud's clients parse it."""
    return f"{storage_id()}${space.id}!{node_id}"


def by_drive_id(value: str) -> Space:
    """Find a space by drive id (``<storage>$<uuid>``) or by its bare UUID."""
    space_id = value.rpartition("$")[2]
    space = rows.first(Space, id=space_id)
    if space is None:
        raise NotFound(f"no space {value!r}")
    return space


def personal_space(user: User) -> Space:
    space = rows.first(Space, kind="personal", owner=user.id)
    if space is None:
        raise NotFound(f"user {user.name!r} has no personal space")
    return space


def root_path(storage_dir: Path, space: Space) -> Path:
    return storage_dir / space.folder


def _free_folder(storage_dir: Path, parent: str, name: str) -> str:
    base = f"{parent}/{folder_name(name)}"
    candidate, counter = base, 1
    while (storage_dir / candidate).exists() or Space.get_or_none(
        Space.folder == candidate
    ):
        counter += 1
        candidate = f"{base}-{counter}"
    return candidate


def create_personal(storage_dir: Path, user: User) -> Space:
    """Make a user's personal space and its folder (the name is fixed from now on)."""
    folder = _free_folder(storage_dir, "users", user.name)
    space = Space(
        id=str(uuid.uuid4()), kind="personal", owner=user, name=user.name, folder=folder
    )
    path = storage_dir / folder
    path.mkdir(parents=True)
    ids.write_id(path, space.id)
    with db.write():
        space.save(force_insert=True)
    return space


# --- project spaces ----------------------------------------------------------

MAX_NAME = 255


def _check_space_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or not is_text(name):
        raise BadRequest(f"not a usable space name: {name!r}")
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise BadRequest(f"space names may not hold control characters: {name!r}")
    return name


# The database stores a quota as a signed 64-bit integer.
MAX_QUOTA = 2**63 - 1


def _check_quota(total: int | None) -> int | None:
    if total is not None and (
        isinstance(total, bool) or total < 0 or total > MAX_QUOTA
    ):
        raise BadRequest(f"a quota is 0 (no limit) or a number of bytes: {total!r}")
    return total


def create_project(
    storage_dir: Path,
    name: str,
    *,
    creator: User,
    description: str = "",
    quota_total: int | None = None,
    address: str = "",
) -> Space:
    """Make a project space under projects/ with ``creator`` as its Manager.

    Its folder name comes from ``name`` (sanitised, unique) and stays fixed;
    renames change only the display name.
    """
    name = _check_space_name(name)
    _check_quota(quota_total)
    folder = _free_folder(storage_dir, "projects", name)
    space = Space(
        id=str(uuid.uuid4()),
        kind="project",
        owner=None,
        name=name,
        folder=folder,
        description=description,
        quota_total=quota_total,
        created_by=creator.id,
    )
    path = storage_dir / folder
    path.mkdir(parents=True)
    ids.write_id(path, space.id)
    grant = Grant(
        id=str(uuid.uuid4()),
        space=space.id,
        node_id=space.id,
        grantee_type="user",
        grantee_id=creator.id,
        role=roles.MANAGER.id,
        created_by=creator.id,
    )
    with db.write():
        space.save(force_insert=True)
        grant.save(force_insert=True)
    audit.record(
        "space_created", actor=creator.name, address=address, target=_target(space)
    )
    return space


def may_create(user: User) -> bool:
    """Whether ``user`` may create project spaces: admins and space admins."""
    return bool(user.is_admin or user.space_admin)


def _target(space: Space) -> str:
    return f"{space.id} ({space.name})"


def update(
    space: Space,
    *,
    name: str | None = None,
    description: str | None = None,
    quota_total: int | None | Unset = UNSET,
    actor: str = "",
    address: str = "",
) -> Space:
    """Change a space's display name, description or quota (None: the default)."""
    changes: dict[str, object] = {}
    if name is not None:
        if space.kind == "personal":
            raise Forbidden("a personal space is named after its user")
        name = _check_space_name(name)
        if name != space.name:
            changes["name"] = name
    if description is not None and description != space.description:
        changes["description"] = description
    if not isinstance(quota_total, Unset):
        changes["quota_total"] = _check_quota(quota_total)
    if not changes:
        return space
    with db.write():
        Space.update(**changes).where(Space.id == space.id).execute()
    old_name = space.name
    for key, value in changes.items():
        setattr(space, key, value)
    if "name" in changes:
        audit.record(
            "space_renamed",
            actor=actor,
            address=address,
            target=_target(space),
            detail=f"{old_name!r} -> {space.name!r}",
        )
    rest = sorted(key for key in changes if key != "name")
    if rest:
        audit.record(
            "space_updated",
            actor=actor,
            address=address,
            target=_target(space),
            detail=", ".join(rest),
        )
    return space


def disable(space: Space, *, actor: str = "", address: str = "") -> None:
    """Soft-delete a project space: hidden from members, every access refused."""
    if space.kind == "personal":
        raise Forbidden("a personal space is removed with its user, not disabled")
    if space.disabled is not None:
        return
    space.disabled = time.time()
    with db.write():
        Space.update(disabled=space.disabled).where(Space.id == space.id).execute()
    audit.record("space_disabled", actor=actor, address=address, target=_target(space))


def restore(space: Space, *, actor: str = "", address: str = "") -> None:
    """Enable a disabled space again, with its content and members."""
    if space.disabled is None:
        return
    space.disabled = None
    with db.write():
        Space.update(disabled=None).where(Space.id == space.id).execute()
    audit.record("space_enabled", actor=actor, address=address, target=_target(space))


def purge(
    storage_dir: Path,
    state_dir: Path,
    space: Space,
    *,
    actor: str = "",
    address: str = "",
) -> None:
    """Delete a disabled project space for good: its folder, trash, versions, rows."""
    if space.kind == "personal":
        raise Forbidden("a personal space is removed with its user")
    if space.disabled is None:
        raise BadRequest("only a disabled space can be purged: disable it first")
    nodes = Node.select(Node.id).where(Node.space == space.id)
    with db.write():
        DeadProperty.delete().where(DeadProperty.node_id.in_(nodes)).execute()
        Favorite.delete().where(Favorite.node_id.in_(nodes)).execute()
        Tag.delete().where(Tag.node_id.in_(nodes)).execute()
        Lock.delete().where(Lock.root.startswith(f"/{space.id}/")).execute()
        Node.delete().where(Node.space == space.id).execute()
        space.delete_instance()
    for folder in (
        root_path(storage_dir, space),
        state_dir / "trash" / str(space.id),
        state_dir / "versions" / str(space.id),
    ):
        shutil.rmtree(folder, ignore_errors=True)
    search_hooks.space_removed(str(space.id))
    audit.record("space_deleted", actor=actor, address=address, target=_target(space))


# --- listing -------------------------------------------------------------------


def _principal_groups(user_id: str) -> Any:
    return GroupMember.select(GroupMember.group_id).where(GroupMember.user == user_id)


def member_space_ids(user_id: str) -> set[str]:
    """Ids of the spaces with a live grant on their root for the user or a group
    of theirs."""
    query = Grant.select(Grant.space_id, Grant.node_id, Grant.expires).where(
        (Grant.node_id == Grant.space)
        & (
            ((Grant.grantee_type == "user") & (Grant.grantee_id == user_id))
            | (
                (Grant.grantee_type == "group")
                & Grant.grantee_id.in_(_principal_groups(user_id))
            )
        )
    )
    now = time.time()
    return {
        str(row.space_id) for row in query if row.expires is None or row.expires >= now
    }


def listing(*, kind: str | None = None) -> list[Space]:
    """Every space (for admins), personal ones first, then by name."""
    query = Space.select()
    if kind is not None:
        query = query.where(Space.kind == kind)
    return list(query.order_by(Space.kind, Space.name))


def of_user(user_id: str) -> list[Space]:
    """The spaces a user is a member of: their personal space and the project
    spaces with a grant for them or their groups (disabled ones included: the
    caller decides who still sees those)."""
    ids_ = member_space_ids(user_id)
    query = Space.select().where(
        ((Space.kind == "personal") & (Space.owner == user_id)) | Space.id.in_(ids_)
    )
    return list(query.order_by(Space.kind, Space.name))


# --- members -------------------------------------------------------------------


def members(space: Space) -> list[Grant]:
    """The grants on the space root: its members, users and groups."""
    return list(
        Grant.select()
        .where(
            (Grant.space == space.id)
            & (Grant.node_id == space.id)
            & Grant.grantee_type.in_(("user", "group"))
        )
        .order_by(Grant.created)
    )


def member(space: Space, grant_id: str) -> Grant:
    for grant in members(space):
        if grant.id == grant_id:
            return grant
    raise NotFound(f"no member {grant_id!r} in space {space.name!r}")


def _space_role(role_id: str) -> roles.Role:
    role = roles.get(role_id)
    if role is None or role not in roles.SPACE_ROLES:
        names = ", ".join(role.name for role in roles.SPACE_ROLES)
        raise BadRequest(f"not a space role: {role_id!r} (one of {names})")
    return role


def _grantee_name(grantee_type: str, grantee_id: str) -> str:
    if grantee_type == "user":
        user = User.get_or_none(User.id == grantee_id)
        if user is not None:
            return str(user.name)
    elif grantee_type == "group":
        group = Group.get_or_none(Group.id == grantee_id)
        if group is not None:
            return str(group.name)
    else:
        raise BadRequest(f"members are users or groups, not {grantee_type!r}")
    raise NotFound(f"no {grantee_type} {grantee_id!r}")


def add_member(
    space: Space,
    grantee_type: str,
    grantee_id: str,
    role_id: str,
    *,
    expires: float | None = None,
    created_by: str = "",
    actor: str = "",
    address: str = "",
) -> Grant:
    """Give a user or a group a space role on ``space``."""
    if space.kind != "project":
        raise BadRequest("only project spaces have members")
    role = _space_role(role_id)
    who = _grantee_name(grantee_type, grantee_id)
    for grant in members(space):
        if (grant.grantee_type, grant.grantee_id) == (grantee_type, grantee_id):
            raise Conflict(f"{grantee_type} {who!r} is a member already")
    grant = Grant(
        id=str(uuid.uuid4()),
        space=space.id,
        node_id=space.id,
        grantee_type=grantee_type,
        grantee_id=grantee_id,
        role=role.id,
        created_by=created_by,
        expires=expires,
    )
    with db.write():
        grant.save(force_insert=True)
    audit.record(
        "space_shared",
        actor=actor,
        address=address,
        target=_target(space),
        detail=f"{grantee_type} {who!r} as {role.name}",
    )
    return grant


def _is_manager(grant: Grant) -> bool:
    return grant.role == roles.MANAGER.id and (
        grant.expires is None or grant.expires >= time.time()
    )


def _keep_a_manager(space: Space, changing: Grant) -> None:
    others = [
        grant
        for grant in members(space)
        if grant.id != changing.id and _is_manager(grant)
    ]
    if _is_manager(changing) and not others:
        raise Forbidden(f"space {space.name!r} must keep at least one Manager")


def update_member(
    space: Space,
    grant: Grant,
    *,
    role_id: str | None = None,
    expires: float | None | Unset = UNSET,
    actor: str = "",
    address: str = "",
) -> Grant:
    """Change a member's role or expiration; the last Manager stays a Manager."""
    changes: dict[str, object] = {}
    if role_id is not None:
        role = _space_role(role_id)
        if role.id != grant.role:
            if role is not roles.MANAGER:
                _keep_a_manager(space, grant)
            changes["role"] = role.id
    if not isinstance(expires, Unset) and expires != grant.expires:
        if expires is not None:
            _keep_a_manager(space, grant)
        changes["expires"] = expires
    if not changes:
        return grant
    with db.write():
        Grant.update(**changes).where(Grant.id == grant.id).execute()
    for key, value in changes.items():
        setattr(grant, key, value)
    audit.record(
        "space_updated",
        actor=actor,
        address=address,
        target=_target(space),
        detail=f"member {grant.grantee_type} {grant.grantee_id}: "
        + ", ".join(sorted(changes)),
    )
    return grant


def remove_member(
    space: Space, grant: Grant, *, actor: str = "", address: str = ""
) -> None:
    """Take a member's role away; the last Manager cannot be removed."""
    _keep_a_manager(space, grant)
    with db.write():
        Grant.delete().where(Grant.id == grant.id).execute()
    audit.record(
        "space_unshared",
        actor=actor,
        address=address,
        target=_target(space),
        detail=f"{grant.grantee_type} {grant.grantee_id}",
    )
