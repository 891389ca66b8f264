"""Accounts' global roles, OpenCloud's app roles: Admin, Space Admin and User.

Every account holds exactly one; an admin gives another. The ids are
OpenCloud's (scripts keep them). Grove stores the role as two flags on the
user row (``is_admin``, ``space_admin``), which the rest of the core reads.
"""

from __future__ import annotations

import dataclasses

from app import audit, db
from app.errors import BadRequest, Conflict, Forbidden
from app.models import User


@dataclasses.dataclass(frozen=True)
class AppRole:
    id: str
    name: str  # as Grove's CLI and logs call it
    display_name: str
    description: str


ADMIN = AppRole(
    "71881883-1768-46bd-a24d-a356a2afdf7f",
    "admin",
    "Admin",
    "Manages accounts, groups and every drive.",
)
SPACE_ADMIN = AppRole(
    "2aadd357-682c-406b-8874-293091995fdd",
    "space-admin",
    "Space Admin",
    "Creates project drives and oversees every project drive (not its content).",
)
USER = AppRole(
    "d7beeea8-8ff4-406b-8fb6-ab2dd81e6b11",
    "user",
    "User",
    "Uses their own drive and what is shared with them.",
)
ALL = (ADMIN, SPACE_ADMIN, USER)
BY_ID = {role.id: role for role in ALL}


def of(user: User) -> AppRole:
    """The one role ``user`` holds."""
    if user.is_admin:
        return ADMIN
    return SPACE_ADMIN if user.space_admin else USER


def get(role_id: str) -> AppRole:
    role = BY_ID.get(role_id)
    if role is None:
        names = ", ".join(f"{r.id} ({r.display_name})" for r in ALL)
        raise BadRequest(f"no app role {role_id!r}: one of {names}")
    return role


def set_space_admin(
    user: User, value: bool, *, actor: str = "", address: str = ""
) -> None:
    """Give ``user`` the space-admin role or take it back (they become a User);
    an admin's role is changed with :func:`assign`."""
    if user.is_admin:
        raise Conflict(f"{user.name!r} is an admin, which includes the space admin")
    assign(user, SPACE_ADMIN if value else USER, actor=actor, address=address)


def _last_admin(user: User) -> bool:
    others = User.select().where((User.is_admin == True) & (User.id != user.id))  # noqa: E712
    return bool(user.is_admin) and not others.exists()


def assign(user: User, role: AppRole, *, actor: str = "", address: str = "") -> None:
    """Give ``user`` ``role`` in place of the one they hold; the last admin
    stays an admin (403)."""
    if role == of(user):
        return
    if role is not ADMIN and _last_admin(user):
        raise Forbidden(f"{user.name!r} is the last admin and stays one")
    flags = {"is_admin": role is ADMIN, "space_admin": role is SPACE_ADMIN}
    with db.write():
        User.update(**flags).where(User.id == user.id).execute()
    user.is_admin, user.space_admin = flags["is_admin"], flags["space_admin"]
    audit.record(
        "user_feature_changed",
        actor=actor,
        address=address,
        target=str(user.name),
        detail=f"role: {role.name}",
    )
