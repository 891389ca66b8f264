"""The one permission decision point: what may this principal do here?

Every DAV method, API view and search result asks :func:`permissions`.
``oc:permissions`` letters are rendered from the same set.
"""

from __future__ import annotations

import time

from app import roles
from app.auth.principal import Principal
from app.models import Grant, GroupMember, Space
from app.perms import READ_ONLY, Perm

__all__ = ["Perm", "permissions", "oc_letters"]

_OWNER = Perm.owner()
_OWNER_ROOT = _OWNER & ~(Perm.DELETE | Perm.RENAME)
_ROOT_FIXED = ~(Perm.DELETE | Perm.RENAME)


def permissions(
    principal: Principal | None,
    space: Space,
    path: list[str],
    *,
    grant: Grant | None = None,
) -> Perm:
    """The permission set of ``principal`` on ``path`` in ``space``.

    Without ``grant`` it comes from the space: its owner holds every permission,
    members hold their role's. With ``grant`` (the caller reached the item
    through a share or a public link) it is the grant's role, for ``path``
    inside the shared item. A disabled space grants nothing; a read-only
    credential keeps only what reads.
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
        perms = _member_perms(principal, space)
        if not path:
            perms &= _ROOT_FIXED
    if principal.read_only:
        # A read-only app token may look, never change: on every door.
        perms &= READ_ONLY
    return perms


def _grant_perms(grant: Grant) -> Perm:
    role = roles.BY_ID.get(grant.role)
    if role is None or (grant.expires is not None and grant.expires < _now()):
        return Perm.NONE
    return role.perms


def _member_perms(principal: Principal, space: Space) -> Perm:
    """The union of the roles the user holds on the space root, directly or
    through a group."""
    groups = GroupMember.select(GroupMember.group_id).where(
        GroupMember.user == principal.user_id
    )
    query = Grant.select(Grant.role, Grant.expires).where(
        (Grant.space == space.id)
        & (Grant.node_id == space.id)
        & (
            ((Grant.grantee_type == "user") & (Grant.grantee_id == principal.user_id))
            | ((Grant.grantee_type == "group") & Grant.grantee_id.in_(groups))
        )
    )
    perms = Perm.NONE
    for row in query:
        perms |= _grant_perms(row)
    return perms


def _now() -> float:
    return time.time()


def oc_letters(perms: Perm, *, is_dir: bool) -> str:
    """Render ``oc:permissions`` in OpenCloud's letter order."""
    letters = ""
    if Perm.SHARE in perms:
        letters += "R"
    if Perm.DELETE in perms:
        letters += "D"
    if Perm.RENAME in perms:
        letters += "NV"
    if Perm.WRITE in perms and not is_dir:
        letters += "W"
    if Perm.CREATE in perms and is_dir:
        letters += "CK"
    return letters
