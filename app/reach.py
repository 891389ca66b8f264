"""Which item a user reaches by id, and with what permissions: in a space of
their own or of which they are a member, or through a share they received.

The API names items by resource id; a recipient may name a shared item (or
one inside a shared folder) by its real id, or by its share jail id
(``<jail drive id>!<share id>``). Either way the permissions are
app.acl's answer, asked with the grant the item is reached through.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from app import acl, shares, spaces
from app.auth.principal import Principal
from app.errors import NotFound
from app.models import Grant, Space
from app.perms import VISIBLE, Perm
from app.storage import lookup
from app.storage.tree import Item, SpaceTree

TreeFor = Callable[[Space], SpaceTree]


@dataclasses.dataclass
class Reached:
    space: Space
    item: Item
    perms: Perm
    grant: Grant | None = None  # the share it is reached through, if any
    mount: bool = False  # the shared item itself, as its recipient sees it


def jail_grant_id(item_id: str) -> str | None:
    """The share id in a share jail item id, None for any other id."""
    head, bang, grant_id = item_id.partition("!")
    if bang and head in (shares.JAIL_DRIVE_ID, shares.JAIL_ID) and grant_id:
        return grant_id
    return None


def item(
    tree_for: TreeFor,
    principal: Principal,
    drive_id: str,
    item_id: str,
    memo: acl.Memo | None = None,
) -> Reached:
    """The item ``item_id`` of drive ``drive_id`` as ``principal`` may see it;
    NotFound when it does not exist for them."""
    grant_id = jail_grant_id(item_id)
    if grant_id is not None:
        return _mounted(tree_for, principal, grant_id)
    if drive_id in (shares.JAIL_DRIVE_ID, shares.JAIL_ID):
        raise NotFound(f"no item {item_id!r} in the share jail")
    space = spaces.by_drive_id(drive_id)
    node_id = lookup.node_id_of(item_id)
    found = lookup.parts_of(node_id) if node_id != str(space.id) else (space, [])
    if found is None or found[0].id != space.id:
        raise NotFound(f"no item {item_id!r} in this drive")
    current = tree_for(space).item(found[1])
    if current is None or current.id != node_id:
        raise NotFound(f"no item {item_id!r} in this drive")
    return _best(principal, space, current, memo)


def _best(
    principal: Principal, space: Space, current: Item, memo: acl.Memo | None
) -> Reached:
    """Own or member permissions, else the union of the shares received on
    the item or a folder above it."""
    perms = acl.permissions(principal, space, current.parts, memo=memo)
    perms = acl.through_symlink(principal, current, perms, memo=memo)
    if perms & VISIBLE:
        return Reached(space, current, perms)
    lineage = [*current.ancestor_ids, current.id]
    found: Grant | None = None
    for grant in shares.received(principal.user_id, lineage):
        granted = acl.permissions(principal, space, current.parts, grant=grant)
        granted = acl.through_symlink(principal, current, granted, grant=grant)
        if granted & VISIBLE:
            perms |= granted
            found = found or grant
    if found is None:
        raise NotFound(f"no item {current.id!r} in this drive")
    mount = found.node_id == current.id
    if mount:
        perms &= ~(Perm.DELETE | Perm.RENAME)
    return Reached(space, current, perms, found, mount)


def _mounted(tree_for: TreeFor, principal: Principal, grant_id: str) -> Reached:
    for mount in shares.mounts(principal.user_id):
        if str(mount.grant.id) != grant_id:
            continue
        current = tree_for(mount.space).item(mount.parts)
        if current is None:
            break
        perms = acl.permissions(principal, mount.space, mount.parts, grant=mount.grant)
        perms &= ~(Perm.DELETE | Perm.RENAME)
        return Reached(mount.space, current, perms, mount.grant, True)
    raise NotFound(f"no share {grant_id!r} received")
