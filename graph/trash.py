"""``/v1.0/extensions/org.grove/trash/{drive-id}``: a drive's trash in the API.

The libre-graph document has no trash endpoints, only DeleteDriveItem (which
moves an item to the trash, served here too); these are Grove's own, named
like libre-graph's extensions: GET lists the trashed items as driveItems
with the document's ``deleted`` and ``trash`` facets; ``POST …/{key}/restore``
puts one back (optionally into another folder of the drive, under another
name; a taken name becomes ``name (1)``); DELETE of ``…/{key}`` purges one,
DELETE of the trash empties it. Who may do what is app.trashbin's answer,
as over WebDAV.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, request
from flask.typing import ResponseReturnValue

from app import reach, spaces, trashbin, users
from app.errors import BadRequest, NotFound
from app.instance import Grove
from app.models import TrashItem
from app.storage import lookup
from app.storage.tree import Item
from graph import caller, drive_json
from graph.api import Blueprint, GraphSchema
from graph.drive_items import ItemSchema

PATH = "/v1.0/extensions/org.grove/trash/<drive_id>"


class TrashedItemSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    size = ma.fields.Integer()
    parentReference = ma.fields.Dict()  # noqa: N815
    deleted = ma.fields.Dict()
    trash = ma.fields.Dict()
    folder = ma.fields.Dict()
    file = ma.fields.Dict()


class TrashCollection(ma.Schema):
    value = ma.fields.List(ma.fields.Nested(TrashedItemSchema))


class FolderReference(GraphSchema):
    id = ma.fields.String(required=True)


class Restore(GraphSchema):
    """Where to: by default the folder the item was deleted from, its name."""

    name = ma.fields.String(validate=ma.validate.Length(min=1, max=255))
    parentReference = ma.fields.Nested(FolderReference)  # noqa: N815


def _trashed_by(user_id: str) -> dict[str, Any]:
    try:
        user = users.get(user_id)
    except NotFound:
        return {"user": {"id": user_id, "displayName": ""}}
    return {"user": {"id": user.id, "displayName": user.display_name}}


def _json(bin_: trashbin.Bin, row: TrashItem) -> dict[str, Any]:
    space = bin_.space
    out: dict[str, Any] = {
        "id": str(row.id),
        "name": str(row.name),
        "size": int(row.size),
        "parentReference": {
            "driveId": spaces.drive_id(space),
            "driveType": str(space.kind),
            "path": "/" + str(row.original_path).strip("/"),
        },
        "deleted": {"state": "trashed"},
        "trash": {
            "trashedBy": _trashed_by(str(row.deleted_by)),
            "trashedDateTime": drive_json.when(float(row.deleted)),
        },
    }
    out["folder" if row.is_dir else "file"] = {}
    return out


def _caller(*, write: bool) -> trashbin.Caller:
    return trashbin.Caller(
        caller.principal(write=write), request.remote_addr or "", memo={}
    )


def _folder(grove: Grove, bin_: trashbin.Bin, resource_id: str) -> Item:
    found = lookup.item(grove.tree, lookup.node_id_of(resource_id))
    if found is None or found.tree.space.id != bin_.space.id:
        raise NotFound(f"no folder {resource_id!r} in this drive")
    if not found.is_dir:
        raise BadRequest(f"{resource_id!r} is not a folder")
    return found


def create_blueprint(grove: Grove) -> Blueprint:
    blp = Blueprint("trash", __name__, description="A drive's trash (Grove's own)")

    @blp.route(PATH, methods=["GET"])
    @blp.response(200, TrashCollection)
    def listing(drive_id: str) -> ResponseReturnValue:
        """The drive's trashed items, newest first."""
        who = _caller(write=False)
        bin_ = trashbin.open_bin(who, drive_id)
        return {"value": [_json(bin_, row) for row in trashbin.entries(who, bin_)]}

    @blp.route(PATH, methods=["DELETE"])
    @blp.response(204)
    def empty(drive_id: str) -> ResponseReturnValue:
        """Purge every item of the drive's trash."""
        who = _caller(write=True)
        trashbin.purge(grove, who, trashbin.open_bin(who, drive_id), None)
        return Response(status=204)

    @blp.route(PATH + "/<key>", methods=["DELETE"])
    @blp.response(204)
    def purge(drive_id: str, key: str) -> ResponseReturnValue:
        """Purge one trashed item for good."""
        who = _caller(write=True)
        bin_ = trashbin.open_bin(who, drive_id)
        trashbin.purge(grove, who, bin_, trashbin.entry(who, bin_, key))
        return Response(status=204)

    @blp.route("/v1beta1/drives/<drive_id>/items/<item_id>", methods=["DELETE"])
    @blp.response(204)
    def delete_item(drive_id: str, item_id: str) -> ResponseReturnValue:
        """Move an item to its drive's trash (libre-graph's DeleteDriveItem)."""
        principal = caller.principal(write=True)
        who = trashbin.Caller(principal, request.remote_addr or "", memo={})
        reached = reach.item(grove.tree, principal, drive_id, item_id, who.memo)
        trashbin.delete(grove, who, reached)
        return Response(status=204)

    @blp.route(PATH + "/<key>/restore", methods=["POST"])
    @blp.arguments(Restore, required=False)
    @blp.response(200, ItemSchema)
    def restore(body: dict[str, Any], drive_id: str, key: str) -> ResponseReturnValue:
        """Put a trashed item back; the answer is the restored driveItem."""
        who = _caller(write=True)
        bin_ = trashbin.open_bin(who, drive_id)
        row = trashbin.entry(who, bin_, key)
        parent = body.get("parentReference")
        folder = _folder(grove, bin_, parent["id"]) if parent else None
        restored = trashbin.restore(
            grove, who, bin_, row, folder=folder, name=body.get("name")
        )
        return drive_json.item(bin_.space, restored)

    return blp
