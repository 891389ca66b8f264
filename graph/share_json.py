"""Shares and public links as the libre-graph document names them: the
``permission`` of a share (``roles``, ``grantedToV2``, ``invitation``) or of a
link (``link`` facet), and the ``driveItem`` of a received share in
``sharedWithMe`` (``remoteItem``, ``@UI.Hidden``, ``@client.synchronize``).
"""

from __future__ import annotations

from typing import Any

from app import shares, spaces
from app.models import Grant, User
from app.perms import Perm
from app.storage.tree import Item
from graph import drive_json


def _invited_by(grant: Grant) -> dict[str, Any]:
    user = User.get_or_none(User.id == grant.created_by)
    name = str(user.display_name) if user is not None else ""
    return {"invitedBy": {"user": {"id": str(grant.created_by), "displayName": name}}}


def link_url(token: str) -> str:
    """Where a link's holder opens it: its public WebDAV URL."""
    return f"{drive_json.base_url()}/dav/public-files/{token}"


def permission(grant: Grant, *, secrets: bool = True) -> dict[str, Any]:
    """A share or a link as a ``permission``; ``secrets``: include the link's
    URL (only for who may share the item)."""
    if grant.grantee_type != "link":
        out = drive_json.permission(grant)
        out["invitation"] = _invited_by(grant)
        return out
    link: dict[str, Any] = {
        "type": str(grant.link_type),
        "preventsDownload": grant.link_type == "blocksDownload",
        "@libre.graph.displayName": str(grant.display_name or ""),
        "@libre.graph.quickLink": False,
    }
    if secrets:
        link["webUrl"] = link_url(str(grant.link_token))
    out = {
        "id": str(grant.id),
        "hasPassword": bool(grant.password_hash),
        "createdDateTime": drive_json.when(grant.created),
        "link": link,
    }
    if grant.expires is not None:
        out["expirationDateTime"] = drive_json.when(grant.expires)
    return out


def jail_item_id(grant: Grant) -> str:
    return f"{shares.JAIL_DRIVE_ID}!{grant.id}"


def _remote(mount: shares.Mount, item: Item) -> dict[str, Any]:
    real = drive_json.item(mount.space, item)
    remote = {
        key: real[key]
        for key in ("id", "name", "size", "eTag", "lastModifiedDateTime", "webDavUrl")
    }
    remote["parentReference"] = {
        "driveId": spaces.drive_id(mount.space),
        "driveType": str(mount.space.kind),
    }
    remote["permissions"] = [permission(mount.grant)]
    for facet in ("file", "folder"):
        if facet in real:
            remote[facet] = real[facet]
    return remote


def shared_with_me(mount: shares.Mount, item: Item) -> dict[str, Any]:
    """A received share as the recipient's ``driveItem`` in their share jail."""
    remote = _remote(mount, item)
    out: dict[str, Any] = {
        "id": jail_item_id(mount.grant),
        "name": mount.name,
        "eTag": remote["eTag"],
        "lastModifiedDateTime": remote["lastModifiedDateTime"],
        "size": remote["size"],
        "parentReference": {
            "driveId": shares.JAIL_DRIVE_ID,
            "driveType": "virtual",
            "id": f"{shares.JAIL_DRIVE_ID}!{shares.JAIL_ID}",
        },
        "remoteItem": remote,
        "@UI.Hidden": bool(mount.state.hidden),
        "@client.synchronize": bool(mount.state.synchronize),
    }
    if mount.state.synchronize:
        base = drive_json.base_url()
        out["webDavUrl"] = f"{base}/dav/spaces/{shares.JAIL_DRIVE_ID}/{mount.name}"
    for facet in ("file", "folder"):
        if facet in remote:
            out[facet] = remote[facet]
    return out


def shared_by_me(space: Any, item: Item, grants: list[Grant]) -> dict[str, Any]:
    """An item the caller shared, with its shares and links as ``permissions``."""
    out = drive_json.item(space, item)
    out["permissions"] = [permission(grant) for grant in grants]
    return out


def visible_grants(grants: list[Grant], perms: Perm, mine: set[str]) -> list[Grant]:
    """Who may see which permissions of an item: who may share it or list its
    grants sees all; anyone else only those granted to them (``mine``: the
    caller's user and group ids)."""
    if perms & (Perm.SHARE | Perm.LIST_GRANTS | Perm.MANAGE):
        return grants
    return [g for g in grants if g.grantee_type != "link" and g.grantee_id in mine]
