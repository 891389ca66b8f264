"""A drive's items in the libre-graph API: its root, one item, a folder's children.

What the caller may see is the permission function's answer, as over WebDAV;
an item they may not see does not exist (404).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask.typing import ResponseReturnValue

from app import acl, spaces, users
from app.auth.principal import Principal
from app.errors import NotFound
from app.instance import Grove
from app.models import Space
from app.storage import lookup
from app.storage.tree import Item
from graph import caller, drive_json, odata
from graph.api import Blueprint
from graph.drives import find


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


class ItemCollection(ma.Schema):
    value = ma.fields.List(ma.fields.Nested(ItemSchema))


def _parts(space: Space, node_id: str) -> list[str]:
    """The path of a node of ``space`` from the tree rows."""
    found = lookup.parts_of(node_id)
    if found is None or found[0].id != space.id:
        raise NotFound(f"no item {node_id!r} in this drive")
    return found[1]


def _readable(
    grove: Grove, principal: Principal, space: Space, parts: list[str]
) -> Item:
    perms = acl.permissions(
        principal, space, parts, memo=acl.request_memo(request.environ)
    )
    found = grove.tree(space).item(parts) if acl.Perm.READ in perms else None
    if found is None:
        raise NotFound("no such item")
    return found


def _item(grove: Grove, drive_id: str, item_id: str) -> tuple[Space, Item]:
    principal = caller.principal()
    space = find(principal, drive_id)
    node_id = lookup.node_id_of(item_id)
    if node_id == space.id:
        return space, _readable(grove, principal, space, [])
    return space, _readable(grove, principal, space, _parts(space, node_id))


def _children(
    grove: Grove, space: Space, folder: Item, query: dict[str, Any]
) -> dict[str, Any]:
    if not folder.is_dir:
        return {"value": []}
    principal = caller.principal()
    memo = acl.request_memo(request.environ)
    listed = [
        drive_json.item(space, child)
        for child in grove.tree(space).children(folder)
        if acl.Perm.READ in acl.permissions(principal, space, child.parts, memo=memo)
    ]
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

    def root_of(drive_id: str) -> tuple[Space, Item]:
        principal = caller.principal()
        space = find(principal, drive_id)
        return space, _readable(grove, principal, space, [])

    def personal_root() -> tuple[Space, Item]:
        principal = caller.principal()
        space = spaces.personal_space(users.get(principal.user_id))
        return space, _readable(grove, principal, space, [])

    @blp.route("/v1.0/drives/<drive_id>/root")
    @blp.response(200, ItemSchema)
    def drive_root(drive_id: str) -> ResponseReturnValue:
        """The root folder of a drive."""
        return drive_json.item(*root_of(drive_id))

    @blp.route("/v1.0/drives/<drive_id>/root/children")
    @blp.arguments(odata.ListQuery, location="query")
    @blp.response(200, ItemCollection)
    def drive_root_children(
        query: dict[str, Any], drive_id: str
    ) -> ResponseReturnValue:
        """The members of a drive's root folder."""
        return _children(grove, *root_of(drive_id), query)

    @blp.route("/v1.0/drives/<drive_id>/items/<item_id>")
    @blp.response(200, ItemSchema)
    def drive_item(drive_id: str, item_id: str) -> ResponseReturnValue:
        """One file or folder of a drive, by its id."""
        return drive_json.item(*_item(grove, drive_id, item_id))

    @blp.route("/v1.0/drives/<drive_id>/items/<item_id>/children")
    @blp.arguments(odata.ListQuery, location="query")
    @blp.response(200, ItemCollection)
    def drive_item_children(
        query: dict[str, Any], drive_id: str, item_id: str
    ) -> ResponseReturnValue:
        """The members of a folder of a drive."""
        return _children(grove, *_item(grove, drive_id, item_id), query)

    @blp.route("/v1.0/me/drive/root")
    @blp.response(200, ItemSchema)
    def my_root() -> ResponseReturnValue:
        """The root folder of the caller's personal drive."""
        return drive_json.item(*personal_root())

    @blp.route("/v1.0/me/drive/root/children")
    @blp.arguments(odata.ListQuery, location="query")
    @blp.response(200, ItemCollection)
    def my_root_children(query: dict[str, Any]) -> ResponseReturnValue:
        """The members of the caller's personal root folder."""
        return _children(grove, *personal_root(), query)

    return blp
