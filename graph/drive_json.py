"""Drives, drive items and space members as the libre-graph document names them.

A drive is a space: ``id`` is ``<storage-id>$<space-id>``, item ids are
``<storage-id>$<space-id>!<node-id>``, the root's ``webDavUrl`` is the
space's ``/dav/spaces/<drive-id>`` URL.
"""

from __future__ import annotations

import datetime
import hashlib
import mimetypes
import shutil
from typing import Any

from flask import request

from app import forwarded, quota, roles, shares, spaces
from app.instance import Grove
from app.models import Grant, Group, Space, TrashItem, User
from app.storage.tree import Item


def when(timestamp: float) -> str:
    """An RFC 3339 time in UTC, as the document's date-time pattern wants it."""
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def base_url() -> str:
    """This server's URL as the client reached it (also behind a proxy's prefix)."""
    prefix = str(request.environ.get(forwarded.PREFIX_KEY, ""))
    return request.host_url.rstrip("/") + prefix


def drive_alias(space: Space) -> str:
    if space.kind == "personal":
        owner = space.owner
        return f"personal/{owner.name if owner is not None else space.id}"
    return "project/" + str(space.folder).rpartition("/")[2].lower()


def _owner(space: Space) -> dict[str, Any]:
    owner = space.owner if space.kind == "personal" else None
    if owner is not None:
        return {"user": {"id": owner.id, "displayName": owner.display_name}}
    # OpenCloud names a project space itself as its owner.
    return {"user": {"id": str(space.id), "displayName": ""}}


def drive(
    grove: Grove, space: Space, *, members: bool = False, root: Item | None = None
) -> dict[str, Any]:
    """The ``drive`` object; ``members``: the root's permissions (v1beta1)."""
    if root is None:
        root = grove.tree(space).item([])
    free = shutil.disk_usage(grove.storage_dir).free
    drive_id = spaces.drive_id(space)
    root_json: dict[str, Any] = {
        "id": spaces.resource_id(space, str(space.id)),
        "webDavUrl": f"{base_url()}/dav/spaces/{drive_id}",
    }
    modified = space.created
    if root is not None:
        root_json["eTag"] = f'"{root.etag}"'
        modified = root.row.tree_mtime_ns / 1e9 or root.st.st_mtime
    if members:
        root_json["permissions"] = [
            permission(grant) for grant in spaces.members(space)
        ]
    if space.disabled is not None:
        root_json["deleted"] = {"state": "trashed"}
    out: dict[str, Any] = {
        "id": drive_id,
        "eTag": root_json.get("eTag", f'"{space.id}"'),
        "driveType": space.kind,
        "driveAlias": drive_alias(space),
        "name": space.name,
        "owner": _owner(space),
        "quota": quota.usage(space, free).graph(),
        "root": root_json,
        "webUrl": f"{base_url()}/f/{drive_id}",
        "createdDateTime": when(space.created),
        "lastModifiedDateTime": when(modified),
    }
    if space.description:
        out["description"] = space.description
    return out


def share_jail(grove: Grove, user_id: str) -> dict[str, Any]:
    """The caller's share jail as the ``virtual`` drive OpenCloud lists among
    one's drives (``virtual/shares``): sync clients find the shares there."""
    digest = hashlib.sha1(usedforsecurity=False)
    newest = 0.0
    for mount in shares.mounts(user_id):
        found = grove.tree(mount.space).item(mount.parts)
        if found is None:
            continue
        digest.update(f"{mount.grant.id}\0{mount.name}\0{found.etag}\0".encode())
        newest = max(newest, found.st.st_mtime, float(mount.grant.created))
    drive_id = shares.JAIL_DRIVE_ID
    out: dict[str, Any] = {
        "id": drive_id,
        "driveType": "virtual",
        "driveAlias": "virtual/shares",
        "name": shares.JAIL_FOLDER,
        "root": {
            "id": drive_id,
            "eTag": f'"{digest.hexdigest()}"',
            "webDavUrl": f"{base_url()}/dav/spaces/{drive_id}",
        },
        "webUrl": f"{base_url()}/f/{drive_id}",
    }
    if newest:
        out["lastModifiedDateTime"] = when(newest)
    return out


def has_trashed_items(space: Space) -> bool:
    """``@libre.graph.hasTrashedItems``: whether the space's trash holds anything."""
    return bool(TrashItem.select().where(TrashItem.space == space.id).exists())


def _identity(grant: Grant) -> dict[str, Any]:
    if grant.grantee_type == "group":
        group = Group.get_or_none(Group.id == grant.grantee_id)
        name = str(group.name) if group is not None else ""
        return {"group": {"id": grant.grantee_id, "displayName": name}}
    user = User.get_or_none(User.id == grant.grantee_id)
    name = str(user.display_name) if user is not None else ""
    return {
        "user": {
            "id": grant.grantee_id,
            "displayName": name,
            "@libre.graph.userType": "Member",
        }
    }


def permission(grant: Grant) -> dict[str, Any]:
    """A space member as a ``permission`` (unified role id, grantedToV2)."""
    out: dict[str, Any] = {
        "id": str(grant.id),
        "roles": [str(grant.role)],
        "grantedToV2": _identity(grant),
        "createdDateTime": when(grant.created),
    }
    if grant.expires is not None:
        out["expirationDateTime"] = when(grant.expires)
    return out


def allowed_roles() -> list[dict[str, object]]:
    """``@libre.graph.permissions.roles.allowedValues`` of a space root."""
    return [role.graph() for role in roles.SPACE_ROLES]


def item(space: Space, found: Item) -> dict[str, Any]:
    """A ``driveItem`` for a file or folder of a space."""
    drive_id = spaces.drive_id(space)
    path = "/".join(found.parts)
    out: dict[str, Any] = {
        "id": spaces.resource_id(space, found.id),
        "name": found.name or str(space.name),
        "eTag": f'"{found.etag}"',
        "lastModifiedDateTime": when(found.st.st_mtime),
        "size": found.size,
        "webDavUrl": f"{base_url()}/dav/spaces/{drive_id}/{path}".rstrip("/"),
        "parentReference": {"driveId": drive_id, "driveType": str(space.kind)},
    }
    if found.ancestor_ids:
        out["parentReference"]["id"] = spaces.resource_id(space, found.ancestor_ids[-1])
    else:
        out["root"] = {}
    if found.is_dir:
        out["folder"] = {}
    else:
        mime = found.row.mime or mimetypes.guess_type(found.name)[0]
        out["file"] = {"mimeType": mime or "application/octet-stream"}
    return out
