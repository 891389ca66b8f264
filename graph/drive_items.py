"""A drive's items in the libre-graph API: its root, one item, a folder's children.

What the caller may see is the permission function's answer, as over WebDAV;
an item they may not see does not exist (404).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import marshmallow as ma
from flask import request
from flask.typing import ResponseReturnValue

from app import acl, roles, spaces, users
from app.auth.principal import Principal
from app.errors import NotFound
from app.instance import Grove
from app.models import Space
from app.perms import Perm
from app.storage import lookup
from app.storage.tree import Item
from graph import caller, drive_json, odata
from graph.api import Blueprint
from graph.drives import annotation, find
from graph.errors import NotSupported

# What $select may add to a driveItem (the libre-graph document's list).
DOWNLOAD_URL = "@microsoft.graph.downloadUrl"
ALLOWED_ACTIONS = "@libre.graph.permissions.actions.allowedValues"


class ItemSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    eTag = ma.fields.String()  # noqa: N815
    lastModifiedDateTime = ma.fields.String()  # noqa: N815
    size = ma.fields.Integer()
    webDavUrl = ma.fields.String()  # noqa: N815
    parentReference = ma.fields.Dict()  # noqa: N815
    root = ma.fields.Dict()
    folder = ma.fields.Dict()
    file = ma.fields.Dict()
    downloadUrl = annotation(DOWNLOAD_URL, type="string")  # noqa: N815
    allowedActions = annotation(  # noqa: N815
        ALLOWED_ACTIONS, type="array", items={"type": "string"}
    )


class ItemCollection(ma.Schema):
    value = ma.fields.List(ma.fields.Nested(ItemSchema))


def _parts(space: Space, node_id: str) -> list[str]:
    """The path of a node of ``space`` from the tree rows."""
    found = lookup.parts_of(node_id)
    if found is None or found[0].id != space.id:
        raise NotFound(f"no item {node_id!r} in this drive")
    return found[1]


class Found(NamedTuple):
    """An item the caller may read, with their permissions on it."""

    space: Space
    item: Item
    perms: Perm


def _readable(
    grove: Grove, principal: Principal, space: Space, parts: list[str]
) -> Found:
    perms = acl.permissions(
        principal, space, parts, memo=acl.request_memo(request.environ)
    )
    found = grove.tree(space).item(parts) if Perm.READ in perms else None
    if found is None:
        raise NotFound("no such item")
    return Found(space, found, perms)


def _item(grove: Grove, drive_id: str, item_id: str) -> Found:
    principal = caller.principal()
    space = find(principal, drive_id)
    node_id = lookup.node_id_of(item_id)
    if node_id == space.id:
        return _readable(grove, principal, space, [])
    return _readable(grove, principal, space, _parts(space, node_id))


def _selected(query: dict[str, Any]) -> set[str]:
    """The additions ``$select`` asks for; other options are refused, not ignored."""
    for option in ("filter", "expand", "search"):
        if query.get(option):
            raise NotSupported(f"${option} is not supported on drive items")
    return odata.names(query.get("select"), (DOWNLOAD_URL, ALLOWED_ACTIONS), "$select")


def _shape(found: Found, select: set[str]) -> dict[str, Any]:
    out = drive_json.item(found.space, found.item)
    if DOWNLOAD_URL in select and not found.item.is_dir:
        out[DOWNLOAD_URL] = out["webDavUrl"]
    if ALLOWED_ACTIONS in select:
        out[ALLOWED_ACTIONS] = roles.actions_allowed(found.perms)
    return out


def _children(grove: Grove, folder: Found, query: dict[str, Any]) -> dict[str, Any]:
    select = _selected(query)
    if not folder.item.is_dir:
        return {"value": []}
    principal, space = caller.principal(), folder.space
    memo = acl.request_memo(request.environ)
    listed = []
    for child in grove.tree(space).children(folder.item):
        perms = acl.permissions(principal, space, child.parts, memo=memo)
        if Perm.READ in perms:
            listed.append(_shape(Found(space, child, perms), select))
    listed = odata.order(
        listed,
        query.get("orderby"),
        {
            "name": lambda i: str(i["name"]).lower(),
            "lastModifiedDateTime": lambda i: i["lastModifiedDateTime"],
            "size": lambda i: i["size"],
        },
    )
    return {"value": odata.page(listed, query.get("top"), query.get("skip"))}


def create_blueprint(grove: Grove) -> Blueprint:
    blp = Blueprint("drive_items", __name__, description="Drive items")

    def root_of(drive_id: str) -> Found:
        principal = caller.principal()
        return _readable(grove, principal, find(principal, drive_id), [])

    def personal_root() -> Found:
        principal = caller.principal()
        space = spaces.personal_space(users.get(principal.user_id))
        return _readable(grove, principal, space, [])

    @blp.route("/v1.0/drives/<drive_id>/root")
    @blp.arguments(odata.ItemQuery, location="query")
    @blp.response(200, ItemSchema)
    def drive_root(query: dict[str, Any], drive_id: str) -> ResponseReturnValue:
        """The root folder of a drive."""
        return _shape(root_of(drive_id), _selected(query))

    @blp.route("/v1.0/drives/<drive_id>/root/children")
    @blp.arguments(odata.ListQuery, location="query")
    @blp.response(200, ItemCollection)
    def drive_root_children(
        query: dict[str, Any], drive_id: str
    ) -> ResponseReturnValue:
        """The members of a drive's root folder."""
        return _children(grove, root_of(drive_id), query)

    @blp.route("/v1.0/drives/<drive_id>/items/<item_id>")
    @blp.arguments(odata.ItemQuery, location="query")
    @blp.response(200, ItemSchema)
    def drive_item(
        query: dict[str, Any], drive_id: str, item_id: str
    ) -> ResponseReturnValue:
        """One file or folder of a drive, by its id."""
        return _shape(_item(grove, drive_id, item_id), _selected(query))

    @blp.route("/v1.0/drives/<drive_id>/items/<item_id>/children")
    @blp.arguments(odata.ListQuery, location="query")
    @blp.response(200, ItemCollection)
    def drive_item_children(
        query: dict[str, Any], drive_id: str, item_id: str
    ) -> ResponseReturnValue:
        """The members of a folder of a drive."""
        return _children(grove, _item(grove, drive_id, item_id), query)

    @blp.route("/v1.0/me/drive/root")
    @blp.arguments(odata.ItemQuery, location="query")
    @blp.response(200, ItemSchema)
    def my_root(query: dict[str, Any]) -> ResponseReturnValue:
        """The root folder of the caller's personal drive."""
        return _shape(personal_root(), _selected(query))

    @blp.route("/v1.0/me/drive/root/children")
    @blp.arguments(odata.ListQuery, location="query")
    @blp.response(200, ItemCollection)
    def my_root_children(query: dict[str, Any]) -> ResponseReturnValue:
        """The members of the caller's personal root folder."""
        return _children(grove, personal_root(), query)

    return blp
