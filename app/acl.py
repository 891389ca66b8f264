"""The one permission decision point: what may this principal do here?

Every DAV method, API view and search result asks :func:`permissions`.
``oc:permissions`` letters are rendered from the same set.
"""

from __future__ import annotations

import enum

from app.auth.principal import Principal
from app.models import Space


class Perm(enum.Flag):
    NONE = 0
    READ = enum.auto()
    WRITE = enum.auto()  # change file content
    CREATE = enum.auto()  # add members to a folder
    DELETE = enum.auto()
    RENAME = enum.auto()
    SHARE = enum.auto()

    @classmethod
    def owner(cls) -> Perm:
        return cls.READ | cls.WRITE | cls.CREATE | cls.DELETE | cls.RENAME | cls.SHARE


_OWNER = Perm.owner()
_OWNER_ROOT = _OWNER & ~(Perm.DELETE | Perm.RENAME)


def permissions(principal: Principal | None, space: Space, path: list[str]) -> Perm:
    """The permission set of ``principal`` on ``path`` in ``space``.

    Until sharing exists, a user holds every permission on their personal
    space and none anywhere else; a read-only credential keeps only READ.
    """
    if principal is None or principal.enrolment_only:
        return Perm.NONE
    perms = Perm.NONE
    if space.kind == "personal" and space.owner_id == principal.user_id:
        # Constants: enum.Flag arithmetic costs microseconds, and a listing
        # asks once per member.
        perms = _OWNER if path else _OWNER_ROOT
    if principal.read_only:
        # A read-only app token may look, never change: on every door.
        perms &= Perm.READ
    return perms


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
