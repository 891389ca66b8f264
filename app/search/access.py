"""What a user may find: the spaces and shared items they may read.

Asked of the one permission function (app.acl) for each space the user owns
or is a member of and for each share granted to them or their groups; the
backend then searches inside exactly that (app.search.query.Access).
"""

from __future__ import annotations

from app import acl, roles
from app.auth.principal import Principal
from app.models import Grant, GroupMember, Space


def _group_ids(user_id: str) -> list[str]:
    rows = GroupMember.select(GroupMember.group_id).where(GroupMember.user == user_id)
    return [str(row.group_id) for row in rows]


def _grants(user_id: str) -> list[Grant]:
    groups = _group_ids(user_id)
    mine = (Grant.grantee_type == "user") & (Grant.grantee_id == user_id)
    if groups:
        mine |= (Grant.grantee_type == "group") & Grant.grantee_id.in_(groups)
    return list(Grant.select().where(mine))


def denied(principal: Principal | None, spaces: dict[str, Space]) -> frozenset[str]:
    """Node ids of the folders kept from the user (the Denied role) in ``spaces``."""
    if principal is None or not spaces:
        return frozenset()
    groups = _group_ids(principal.user_id)
    mine = (Grant.grantee_type == "user") & (Grant.grantee_id == principal.user_id)
    if groups:
        mine |= (Grant.grantee_type == "group") & Grant.grantee_id.in_(groups)
    rows = Grant.select(Grant.node_id).where(
        mine & (Grant.role == roles.DENIED.id) & Grant.space.in_(list(spaces))
    )
    return frozenset(str(row.node_id) for row in rows)


def readable(principal: Principal | None) -> tuple[dict[str, Space], dict[str, Grant]]:
    """(spaces the user may read whole by id, shares by shared node id)."""
    if principal is None or principal.enrolment_only:
        return {}, {}
    grants = _grants(principal.user_id)
    space_ids = {str(grant.space_id) for grant in grants}
    owned = Space.select().where(
        (Space.kind == "personal") & (Space.owner == principal.user_id)
    )
    spaces = {str(space.id): space for space in owned}
    if space_ids - set(spaces):
        for space in Space.select().where(Space.id.in_(list(space_ids - set(spaces)))):
            spaces[str(space.id)] = space
    whole: dict[str, Space] = {}
    for space_id, space in spaces.items():
        if acl.Perm.READ in acl.permissions(principal, space, []):
            whole[space_id] = space
    shared: dict[str, Grant] = {}
    for grant in grants:
        if grant.node_id == grant.space_id or str(grant.space_id) in whole:
            continue
        granting = spaces.get(str(grant.space_id))
        if granting is None:
            continue
        if acl.Perm.READ in acl.permissions(principal, granting, [], grant=grant):
            shared[str(grant.node_id)] = grant
    return whole, shared
