"""The one permission decision point: what may this principal do here?

Every DAV method, API view and search result asks :func:`permissions`.
``oc:permissions`` letters are rendered from the same set.
"""

from __future__ import annotations

import os
import time
import unicodedata
from pathlib import Path
from typing import Any

from app import roles
from app.auth.principal import Principal
from app.models import Grant, GroupMember, Space, TrashItem
from app.perms import READ_ONLY, Perm
from app.storage import lookup
from app.storage.tree import Item

__all__ = ["Memo", "Perm", "permissions", "oc_letters", "request_memo"]

_OWNER = Perm.owner()
_OWNER_ROOT = _OWNER & ~(Perm.DELETE | Perm.RENAME)
_ROOT_FIXED = ~(Perm.DELETE | Perm.RENAME)


def permissions(
    principal: Principal | None,
    space: Space,
    path: list[str],
    *,
    grant: Grant | None = None,
    memo: Memo | None = None,
) -> Perm:
    """The permission set of ``principal`` on ``path`` in ``space``.

    Without ``grant`` it comes from the space: its owner holds every permission,
    members hold their role's. With ``grant`` (the caller reached the item
    through a share or a public link) it is the grant's role, for ``path``
    inside the shared item. A disabled space grants nothing; a read-only
    credential keeps only what reads. ``memo`` (one dict per request, see
    :func:`request_memo`) keeps each space's membership for the request, so a
    listing asks the database once, not once per member.
    """
    if principal is None or principal.enrolment_only:
        return Perm.NONE
    if space.disabled is not None:
        return Perm.NONE
    if grant is not None:
        perms = _grant_perms(grant)
    elif space.kind == "personal" and space.owner_id == principal.user_id:
        # Constants: enum.Flag arithmetic costs microseconds, and a listing
        # asks once per member.
        perms = _OWNER if path else _OWNER_ROOT
    else:
        perms = _memoised_member_perms(principal, space, memo)
        if not path:
            perms &= _ROOT_FIXED
    if path and perms and space.kind == "project" and not _is_link(grant):
        if _denied(principal, space, path, memo):
            return Perm.NONE
    if principal.read_only:
        # A read-only app token may look, never change: on every door.
        perms &= READ_ONLY
    return perms


def through_symlink(
    principal: Principal | None,
    item: Item,
    perms: Perm,
    *,
    grant: Grant | None = None,
    memo: Memo | None = None,
) -> Perm:
    """``perms`` on ``item``, narrowed when it is a symlink another program
    made: the caller must hold them on the file it leads to as well, and
    through a share or link that file must lie inside the shared item, so a
    link cannot reach past a Denied folder or out of a share."""
    if not item.link or not perms:
        return perms
    root = os.path.realpath(item.tree.root)
    target = os.path.realpath(item.path)
    if os.path.commonpath([root, target]) != root:
        return Perm.NONE
    parts = list(Path(target).relative_to(root).parts)
    if grant is not None:
        shared = lookup.parts_of(str(grant.node_id))
        if shared is None or parts[: len(shared[1])] != shared[1]:
            return Perm.NONE
    space = item.tree.space
    return perms & permissions(principal, space, parts, grant=grant, memo=memo)


def _is_link(grant: Grant | None) -> bool:
    return grant is not None and grant.grantee_type == "link"


def _denied(
    principal: Principal, space: Space, path: list[str], memo: Memo | None
) -> bool:
    """Whether a Denied grant for the user or one of their groups lies on
    ``path`` or a folder above it (project spaces only, as in OpenCloud)."""
    found = _memoised_denied_paths(principal, space, memo)
    # Lookups accept a name in NFC or NFD spelling (app.storage.paths), so the
    # comparison must too, or "Cafe\u0301" would walk around a Denied "Café".
    path = [_nfc(name) for name in path]
    return any(tuple(path[:depth]) in found for depth in range(1, len(path) + 1))


def hides_below(
    principal: Principal | None,
    space: Space,
    path: list[str],
    memo: Memo | None = None,
) -> bool:
    """Whether a Denied folder lies strictly below ``path`` for ``principal``:
    moving ``path`` to another space would carry it out of the denial."""
    if principal is None or space.kind != "project":
        return False
    prefix = tuple(_nfc(name) for name in path)
    found = _memoised_denied_paths(principal, space, memo)
    return any(len(p) > len(prefix) and p[: len(prefix)] == prefix for p in found)


def _memoised_denied_paths(
    principal: Principal, space: Space, memo: Memo | None
) -> frozenset[tuple[str, ...]]:
    key = (principal.user_id, "denied:" + str(space.id))
    found: frozenset[tuple[str, ...]] | None = None if memo is None else memo.get(key)
    if found is None:
        found = _denied_paths(principal, space)
        if memo is not None:
            memo[key] = found
    return found


def _nfc(name: str) -> str:
    if unicodedata.is_normalized("NFC", name):
        return name
    return unicodedata.normalize("NFC", name)


def _denied_paths(principal: Principal, space: Space) -> frozenset[tuple[str, ...]]:
    query = Grant.select(Grant.node_id).where(
        (Grant.space == space.id)
        & (Grant.role == roles.DENIED.id)
        & _grantee_is(principal)
    )
    found = set()
    for row in query:
        place = lookup.parts_of(str(row.node_id)) or _trashed(str(row.node_id))
        if place is not None and place[0].id == space.id:
            found.add(tuple(_nfc(name) for name in place[1]))
    return frozenset(found)


def _trashed(node_id: str) -> tuple[Space, list[str]] | None:
    """Where a trashed node was: its Denied grant keeps the trash entries
    deleted from there (it and what was in it) out of reach."""
    row = TrashItem.get_or_none(TrashItem.node_id == node_id)
    if row is None:
        return None
    parts = [part for part in str(row.original_path).split("/") if part]
    return row.space, [*parts, str(row.name)]


def _grantee_is(principal: Principal) -> Any:
    groups = GroupMember.select(GroupMember.group_id).where(
        GroupMember.user == principal.user_id
    )
    return (
        (Grant.grantee_type == "user") & (Grant.grantee_id == principal.user_id)
    ) | ((Grant.grantee_type == "group") & Grant.grantee_id.in_(groups))


def _grant_perms(grant: Grant) -> Perm:
    if grant.expires is not None and grant.expires < _now():
        return Perm.NONE
    if grant.grantee_type == "link":
        return roles.LINK_PERMS.get(grant.link_type or "", Perm.NONE)
    role = roles.BY_ID.get(grant.role)
    return Perm.NONE if role is None else role.perms


# Member permissions by (user id, space id), and Denied paths by (user id,
# "denied:<space id>"), for the length of one request.
Memo = dict[tuple[str, str], Any]


def request_memo(environ: dict[str, object]) -> Memo:
    """The memo of one request, kept in its WSGI environ (or any per-request dict)."""
    memo = environ.get("grove.acl")
    if not isinstance(memo, dict):
        memo = {}
        environ["grove.acl"] = memo
    return memo


def _memoised_member_perms(
    principal: Principal, space: Space, memo: Memo | None
) -> Perm:
    if memo is None:
        return _member_perms(principal, space)
    key = (principal.user_id, str(space.id))
    perms: Perm | None = memo.get(key)
    if perms is None:
        perms = memo[key] = _member_perms(principal, space)
    return perms


def root_content_permissions(principal: Principal | None, space: Space) -> Perm:
    """What ``principal`` may do with what the root of ``space`` holds: their
    permissions on the root, plus deleting and renaming inside where their role
    allows it (the root itself is never deleted or renamed). A link on a
    space's root passes on no more than these."""
    perms = permissions(principal, space, [])
    if principal is None or Perm.CREATE not in perms:
        return perms
    if space.kind == "personal" and space.owner_id == principal.user_id:
        return perms | Perm.DELETE | Perm.RENAME
    return perms | (_member_perms(principal, space) & (Perm.DELETE | Perm.RENAME))


def may_manage_space(principal: Principal | None, space: Space) -> bool:
    """Whether ``principal`` may rename, disable, restore or purge ``space`` and
    change its members: admins, and its Managers (also while it is disabled)."""
    if principal is None or principal.enrolment_only or principal.read_only:
        return False
    if principal.is_admin:
        return True
    if space.kind == "personal":
        return False
    return Perm.MANAGE in _member_perms(principal, space)


def is_member(principal: Principal | None, space: Space) -> bool:
    """Whether ``principal`` holds a role on ``space`` (ignoring its being
    disabled); the owner of a personal space counts."""
    if principal is None or principal.enrolment_only:
        return False
    if space.kind == "personal" and space.owner_id == principal.user_id:
        return True
    return _member_perms(principal, space) != Perm.NONE


def _member_perms(principal: Principal, space: Space) -> Perm:
    """The union of the roles the user holds on the space root, directly or
    through a group."""
    query = Grant.select(Grant.role, Grant.expires).where(
        (Grant.space == space.id) & (Grant.node_id == space.id) & _grantee_is(principal)
    )
    perms = Perm.NONE
    for row in query:
        perms |= _grant_perms(row)
    return perms


def _now() -> float:
    return time.time()


def oc_letters(
    perms: Perm, *, is_dir: bool, shared: bool = False, mount: bool = False
) -> str:
    """Render ``oc:permissions`` in OpenCloud's letter order.

    ``shared``: reached through a share with the caller (not a link);
    ``mount``: the share's root in the caller's share jail.
    """
    letters = "S" if shared else ""
    if Perm.SHARE in perms:
        letters += "R"
    if mount:
        letters += "M"
    if Perm.DELETE in perms:
        letters += "D"
    if Perm.RENAME in perms:
        letters += "NV"
    if Perm.WRITE in perms and not is_dir:
        letters += "W"
    if Perm.CREATE in perms and is_dir:
        letters += "CK"
    if Perm.READ not in perms and Perm.LIST in perms:
        letters += "X"  # secure view: listed, never downloaded
    return letters
