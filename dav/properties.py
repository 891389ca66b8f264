"""Live properties beyond RFC 4918 that sync clients read (``oc:`` and friends)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from lxml import etree

from app import acl, spaces, tags
from app.models import User
from app.storage.tree import Item

OC = "{http://owncloud.org/ns}"
MS = "{urn:schemas-microsoft-com:}"

# Properties a client may set that change the file itself, not a dead property.
WIN32_MTIME = f"{MS}Win32LastModifiedTime"
PERMISSIONS = f"{OC}permissions"
# Per user (set by PROPPATCH, found by REPORT oc:filter-files): not in LIVE.
FAVORITE = f"{OC}favorite"
TAGS = f"{OC}tags"


def _checksums(item: Item, _: acl.Perm) -> Any:
    if item.is_dir or item.sha1 is None:
        raise LookupError
    element = etree.Element(f"{OC}checksums")
    etree.SubElement(element, f"{OC}checksum").text = f"SHA1:{item.sha1}"
    return element


# Few distinct permission sets exist; enum.Flag tests cost microseconds each.
_letters = functools.lru_cache(maxsize=256)(acl.oc_letters)


def _permissions(item: Item, perms: acl.Perm) -> Any:
    return _letters(perms, is_dir=item.is_dir)


LIVE: dict[str, Callable[[Item, acl.Perm], Any]] = {
    f"{OC}id": lambda item, _: spaces.resource_id(item.tree.space, item.id),
    f"{OC}fileid": lambda item, _: spaces.resource_id(item.tree.space, item.id),
    f"{OC}spaceid": lambda item, _: spaces.drive_id(item.tree.space),
    f"{OC}file-parent": lambda item, _: (
        spaces.resource_id(item.tree.space, item.ancestor_ids[-1])
        if item.ancestor_ids
        else _missing()
    ),
    f"{OC}name": lambda item, _: item.name or item.tree.space.name,
    f"{OC}permissions": _permissions,
    f"{OC}size": lambda item, _: str(item.size),
    f"{OC}checksums": _checksums,
    f"{OC}owner-id": lambda item, _: _owner(item).name,
    f"{OC}owner-display-name": lambda item, _: _owner(item).display_name,
    TAGS: lambda item, _: ",".join(tags.of_nodes([item.id]).get(item.id, ())),
    f"{OC}share-types": lambda item, _: etree.Element(f"{OC}share-types"),
}


def _owner(item: Item) -> User:
    owner = item.tree.space.owner
    if owner is None:
        raise LookupError
    return owner


def _missing() -> Any:
    raise LookupError


def live_value(name: str, item: Item, perms: acl.Perm) -> Any:
    """The value of a Grove live property; LookupError when it has none here."""
    return LIVE[name](item, perms)
