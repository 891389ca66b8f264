"""A space's trash as a caller uses it, through any door (WebDAV, the API).

Listing needs TRASH, restoring TRASH_RESTORE (and CREATE in the folder it
goes back into), purging TRASH_PURGE, all decided by app.acl; a caller who
may not list the trash is told it does not exist, and an entry deleted from
where the caller may not look (a Denied folder) does not exist for them.
Every restore and purge is audited with OpenCloud's action names
(``file_trash_restore``, ``file_trash_delete``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING
from urllib.parse import quote

from app import acl, audit, locks, reach, spaces
from app.auth.principal import Principal
from app.errors import Forbidden, Locked, NotFound
from app.models import Space, TrashItem
from app.perms import VISIBLE, Perm
from app.storage import trash
from app.storage.names import check_new_name
from app.storage.tree import Item

if TYPE_CHECKING:
    from app.instance import Grove


@dataclasses.dataclass
class Caller:
    """Who acts, for the permission function and the audit trail."""

    principal: Principal | None
    address: str = ""
    memo: acl.Memo | None = None

    @property
    def name(self) -> str:
        return self.principal.name if self.principal else ""


@dataclasses.dataclass
class Bin:
    space: Space
    perms: Perm


def open_bin(caller: Caller, drive_id: str) -> Bin:
    """The trash of drive ``drive_id``; NotFound unless the caller may list it."""
    try:
        space = spaces.by_drive_id(drive_id)
    except NotFound:
        raise NotFound(f"no trash {drive_id!r}") from None
    perms = acl.permissions(caller.principal, space, [], memo=caller.memo)
    if Perm.TRASH not in perms:
        raise NotFound(f"no trash {drive_id!r}")
    return Bin(space, perms)


def entries(caller: Caller, bin_: Bin) -> list[TrashItem]:
    """The trash as the caller may see it, newest first: what was deleted
    from where app.acl lets them look (a Denied folder's stays hidden)."""
    return [row for row in trash.listing(bin_.space) if _visible(caller, bin_, row)]


def entry(caller: Caller, bin_: Bin, key: str) -> TrashItem:
    """One trashed item the caller may see; NotFound otherwise."""
    row = trash.get(bin_.space, key)
    if not _visible(caller, bin_, row):
        raise NotFound(f"no item {key!r} in the trash")
    return row


def _visible(caller: Caller, bin_: Bin, row: TrashItem) -> bool:
    where = [p for p in str(row.original_path).split("/") if p] + [str(row.name)]
    perms = acl.permissions(caller.principal, bin_.space, where, memo=caller.memo)
    return bool(perms & VISIBLE)


def delete(grove: Grove, caller: Caller, reached: reach.Reached) -> TrashItem:
    """Move an item the caller reached into its space's trash (the API's
    DeleteDriveItem; WebDAV's DELETE checks its locks in the library)."""
    item = reached.item
    if not item.parts:
        raise Forbidden("a drive's root is not deleted as an item: disable the drive")
    if Perm.DELETE not in reached.perms:
        raise Forbidden(f"not permitted to delete {item.name!r}")
    root = quote(f"/{reached.space.id}/" + "/".join(item.parts))
    if locks.conflicts(root, scope="shared", depth="infinity"):
        raise Locked(f"{item.name!r} or something in it is locked")
    actor_id = caller.principal.user_id if caller.principal else ""
    row = trash.trash(item, grove.settings.state_dir, actor_id=actor_id)
    path = "/".join(item.parts)
    _audit(caller, "file_delete", f"/{reached.space.id}/{path}", "")
    return row


def restore(
    grove: Grove,
    caller: Caller,
    bin_: Bin,
    row: TrashItem,
    *,
    folder: Item | None = None,
    name: str | None = None,
) -> Item:
    """Put ``row`` back (by default where it was); a taken name becomes free."""
    if Perm.TRASH_RESTORE not in bin_.perms:
        raise Forbidden("not permitted to restore from this trash")
    if name is not None:
        name = check_new_name(name)
    tree = grove.tree(bin_.space)
    if folder is not None:
        if folder.tree.space.id != bin_.space.id:
            raise Forbidden("items are restored into their own space")
        where = folder.parts
    else:
        where = [p for p in str(row.original_path).split("/") if p]
    perms = acl.permissions(caller.principal, bin_.space, where, memo=caller.memo)
    if Perm.CREATE not in perms:
        raise Forbidden("not permitted to create in the destination folder")
    restored = trash.restore(
        tree, grove.settings.state_dir, row, folder=folder, name=name
    )
    path = "/".join(restored.parts)
    _audit(caller, "file_trash_restore", f"/{bin_.space.id}/{path}", str(row.id))
    return restored


def purge(grove: Grove, caller: Caller, bin_: Bin, row: TrashItem | None) -> int:
    """Purge ``row`` for good, or the whole trash when None; how many went."""
    if Perm.TRASH_PURGE not in bin_.perms:
        raise Forbidden("not permitted to purge this trash")
    rows = entries(caller, bin_) if row is None else [row]
    for each in rows:
        trash.purge(grove.settings.state_dir, each)
        target = f"/{bin_.space.id}/trash/{each.id}"
        _audit(caller, "file_trash_delete", target, str(each.name))
    return len(rows)


def _audit(caller: Caller, action: str, target: str, detail: str) -> None:
    audit.record(
        action,
        actor=caller.name,
        address=caller.address,
        target=target,
        detail=detail,
    )
