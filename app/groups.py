"""Groups of users: a name, a description and members.

A group can be granted a role on a space or a shared item like a user; its
members get that role. Deleting a group removes its grants with it.
"""

from __future__ import annotations

import uuid

import peewee

from app import audit, db, rows
from app.errors import BadRequest, Conflict, NotFound
from app.models import Grant, Group, GroupMember, ShareState, User
from app.storage.names import xml_safe

MAX_NAME = 255


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or not xml_safe(name):
        raise BadRequest(f"not a usable group name: {name!r}")
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise BadRequest(f"group names may not hold control characters: {name!r}")
    return name


def _check_free(name: str, *, keep: str = "") -> None:
    found = Group.get_or_none(peewee.fn.LOWER(Group.name) == name.lower())
    if found is not None and found.id != keep:
        raise Conflict(f"group {name!r} exists (group names ignore case)")


def get(name_or_id: str) -> Group:
    group = rows.first(Group, id=name_or_id) or rows.first(Group, name=name_or_id)
    if group is None:
        raise NotFound(f"no group {name_or_id!r}")
    return group


def listing() -> list[Group]:
    return list(Group.select().order_by(Group.name))


def create(
    name: str, *, description: str = "", actor: str = "", address: str = ""
) -> Group:
    name = _check_name(name)
    _check_free(name)
    group = Group(id=str(uuid.uuid4()), name=name, description=description)
    with db.write():
        group.save(force_insert=True)
    audit.record("group_created", actor=actor, address=address, target=name)
    return group


def update(
    group: Group,
    *,
    name: str | None = None,
    description: str | None = None,
    actor: str = "",
    address: str = "",
) -> Group:
    """Rename or describe a group; its id, members and grants stay."""
    changes: dict[str, str] = {}
    if name is not None and name != group.name:
        changes["name"] = _check_name(name)
        _check_free(changes["name"], keep=group.id)
    if description is not None and description != group.description:
        changes["description"] = description
    if not changes:
        return group
    with db.write():
        Group.update(**changes).where(Group.id == group.id).execute()
    audit.record(
        "group_updated",
        actor=actor,
        address=address,
        target=group.name,
        detail=", ".join(sorted(changes)),
    )
    return Group.get_by_id(group.id)


def delete(group: Group, *, actor: str = "", address: str = "") -> None:
    """Remove a group, its memberships and the grants made to it."""
    doomed = Grant.select(Grant.id).where(
        (Grant.grantee_type == "group") & (Grant.grantee_id == group.id)
    )
    with db.write():
        ShareState.delete().where(ShareState.grant.in_(doomed)).execute()
        Grant.delete().where(Grant.id.in_(doomed)).execute()
        GroupMember.delete().where(GroupMember.group == group.id).execute()
        group.delete_instance()
    audit.record("group_deleted", actor=actor, address=address, target=group.name)


def members(group: Group) -> list[User]:
    return list(
        User.select()
        .join(GroupMember, on=GroupMember.user == User.id)
        .where(GroupMember.group == group.id)
        .order_by(User.name)
    )


def of_user(user_id: str) -> list[Group]:
    """The groups ``user_id`` belongs to, by name."""
    return list(
        Group.select()
        .join(GroupMember, on=GroupMember.group == Group.id)
        .where(GroupMember.user == user_id)
        .order_by(Group.name)
    )


def add_member(group: Group, user: User, *, actor: str = "", address: str = "") -> None:
    """Add ``user`` to ``group``; Conflict if they are in it already."""
    with db.write():
        if rows.first(GroupMember, group=group.id, user=user.id) is not None:
            raise Conflict(f"{user.name!r} is a member of {group.name!r} already")
        GroupMember.insert(group=group.id, user=user.id).execute()
    audit.record(
        "group_member_added",
        actor=actor,
        address=address,
        target=group.name,
        detail=user.name,
    )


def remove_member(
    group: Group, user: User, *, actor: str = "", address: str = ""
) -> None:
    with db.write():
        removed = (
            GroupMember.delete()
            .where((GroupMember.group == group.id) & (GroupMember.user == user.id))
            .execute()
        )
    if not removed:
        raise NotFound(f"{user.name!r} is not a member of {group.name!r}")
    audit.record(
        "group_member_removed",
        actor=actor,
        address=address,
        target=group.name,
        detail=user.name,
    )
