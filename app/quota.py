"""Quotas per space: total, used, remaining, state, and the check uploads pass.

``used`` is the space's live tree size (the root folder's ``tree_size``, kept
up to date by every change, never a walk of the tree) plus the bytes in its
trash: trash counts toward the quota, versions do not. ``deleted`` is the
trash part. A total of 0 means no limit; a space without a total of its own
(``Space.quota_total`` is None) has the configured ``quota_default``.

States, as OpenCloud computes them from used/total: up to 75 % ``normal``,
up to 90 % ``nearing``, up to 99 % ``critical``, above that ``exceeded``.
"""

from __future__ import annotations

import dataclasses

import peewee

from app.errors import InsufficientStorage
from app.models import Node, Space, TrashItem

# Like the database handle, the default belongs to the instance the process
# serves (app.factory sets it).
_default_total = 0


def configure(default_total: int) -> None:
    """Set the total of spaces without one of their own (0: no limit)."""
    global _default_total
    _default_total = default_total


@dataclasses.dataclass(frozen=True)
class Usage:
    total: int  # 0: no limit
    used: int  # live content plus trash
    deleted: int  # trash
    remaining: int
    state: str

    def graph(self) -> dict[str, object]:
        """The libre-graph ``quota`` object."""
        return dataclasses.asdict(self)


def total(space: Space) -> int:
    """The space's quota in bytes; 0: no limit."""
    if space.quota_total is None:
        return _default_total
    return int(space.quota_total)


def live_bytes(space: Space) -> int:
    """Bytes of the files in the space (its root folder's tree size)."""
    row = Node.select(Node.tree_size).where(Node.id == space.id).first()
    return max(int(row.tree_size), 0) if row is not None else 0


def trash_bytes(space: Space) -> int:
    """Bytes of the items in the space's trash."""
    found = (
        TrashItem.select(peewee.fn.COALESCE(peewee.fn.SUM(TrashItem.size), 0))
        .where(TrashItem.space == space.id)
        .scalar()
    )
    return int(found or 0)


def state(used: int, limit: int) -> str:
    """``normal``, ``nearing``, ``critical`` or ``exceeded`` for used of limit."""
    if limit <= 0:
        return "exceeded" if used > 0 else "normal"
    percent = used * 100 / limit
    if percent <= 75:
        return "normal"
    if percent <= 90:
        return "nearing"
    if percent <= 99:
        return "critical"
    return "exceeded"


def usage(space: Space, disk_free: int) -> Usage:
    """The space's quota figures; without a limit, ``remaining`` is the free disk."""
    limit = total(space)
    deleted = trash_bytes(space)
    used = live_bytes(space) + deleted
    if limit:
        remaining = max(min(limit - used, disk_free), 0)
        return Usage(limit, used, deleted, remaining, state(used, limit))
    return Usage(0, used, deleted, disk_free, state(used, used + disk_free))


def available(space: Space, disk_free: int) -> int:
    """Bytes that may still be added to the space (``quota-available-bytes``)."""
    limit = total(space)
    if not limit:
        return disk_free
    used = live_bytes(space) + trash_bytes(space)
    return max(min(limit - used, disk_free), 0)


def check(space: Space, adding_bytes: int) -> None:
    """Refuse (InsufficientStorage) content that would take the space over its
    quota; changes that add nothing always pass."""
    limit = total(space)
    if not limit or adding_bytes <= 0:
        return
    used = live_bytes(space) + trash_bytes(space)
    if used + adding_bytes > limit:
        raise InsufficientStorage(
            f"quota of space {space.name!r} exceeded: {used} of {limit} bytes used, "
            f"{adding_bytes} more asked for"
        )
