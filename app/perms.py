"""The permission flags Grove decides with (app.acl) and roles grant (app.roles)."""

from __future__ import annotations

import enum


class Perm(enum.Flag):
    NONE = 0
    READ = enum.auto()  # content (download) and listings
    WRITE = enum.auto()  # change file content
    CREATE = enum.auto()  # add members to a folder
    DELETE = enum.auto()
    RENAME = enum.auto()
    SHARE = enum.auto()  # grant others access (never above one's own)
    STAT = enum.auto()  # see that the item exists (upload-only links)
    LIST_GRANTS = enum.auto()  # see who else has access
    MANAGE = enum.auto()  # change and remove others' grants
    VERSIONS = enum.auto()
    VERSIONS_RESTORE = enum.auto()
    TRASH = enum.auto()
    TRASH_RESTORE = enum.auto()
    TRASH_PURGE = enum.auto()
    # Listings without the content (SecureViewer, blocksDownload links): READ
    # alone also lists; LIST alone lists but never downloads.
    LIST = enum.auto()

    @classmethod
    def owner(cls) -> Perm:
        perms = cls.NONE
        for member in cls:
            perms |= member
        return perms


# What a read-only credential keeps of any permission set.
READ_ONLY = (
    Perm.READ | Perm.LIST | Perm.STAT | Perm.LIST_GRANTS | Perm.VERSIONS | Perm.TRASH
)
# Any of these: the principal may know the item exists (PROPFIND shows it).
VISIBLE = Perm.READ | Perm.LIST | Perm.STAT
