"""``/v1.0/extensions/org.libregraph/tags``: list, assign and unassign tags.

GET lists every tag on an item the caller may see; PUT and DELETE take
``{resourceId, tags[]}`` and need the right to change the item (app.acl).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response

from app import acl, tags
from app.auth.principal import Principal
from app.errors import Forbidden, NotFound
from app.instance import Grove
from app.perms import VISIBLE
from app.storage import lookup
from app.storage.tree import Item
from graph.api import Blueprint, GraphSchema
from graph.caller import principal

PATH = "/v1.0/extensions/org.libregraph/tags"


class TagCollection(ma.Schema):
    value = ma.fields.List(ma.fields.String())


class TagAssignment(GraphSchema):
    """``tagAssignment`` and ``tagUnassignment`` (the same two fields)."""

    resourceId = ma.fields.String(required=True)  # noqa: N815
    tags = ma.fields.List(ma.fields.String(), required=True)


def _changeable(grove: Grove, caller: Principal, resource_id: str) -> Item:
    """The item named by ``resource_id`` if the caller may change it."""
    node_id = lookup.node_id_of(resource_id)
    item = lookup.item(grove.tree, node_id)
    if item is None:
        raise NotFound(f"no item {resource_id!r}")
    perms = acl.permissions(caller, item.tree.space, item.parts)
    if not perms & VISIBLE:
        raise NotFound(f"no item {resource_id!r}")
    needed = acl.Perm.CREATE if item.is_dir else acl.Perm.WRITE
    if needed not in perms:
        raise Forbidden("not permitted to change the tags of this item")
    return item


def create_blueprint(grove: Grove) -> Blueprint:
    blueprint = Blueprint("tags", __name__, description="Tags on files and folders")

    @blueprint.route(PATH, methods=["GET"])
    @blueprint.response(200, TagCollection)
    def listing() -> Any:
        """Every tag on an item the caller may see."""
        return {"value": tags.visible(principal())}

    @blueprint.route(PATH, methods=["PUT"])
    @blueprint.arguments(TagAssignment)
    @blueprint.response(200)
    def assign(body: dict[str, Any]) -> Any:
        """Add tags to an item."""
        item = _changeable(grove, principal(write=True), body["resourceId"])
        tags.assign(item.id, body["tags"])
        return Response(status=200)

    @blueprint.route(PATH, methods=["DELETE"])
    @blueprint.arguments(TagAssignment)
    @blueprint.response(200)
    def unassign(body: dict[str, Any]) -> Any:
        """Remove tags from an item."""
        item = _changeable(grove, principal(write=True), body["resourceId"])
        tags.unassign(item.id, body["tags"])
        return Response(status=200)

    return blueprint
