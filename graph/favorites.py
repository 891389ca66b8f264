"""Following drive items (libre-graph's name for favourites, ``oc:favorite``).

``POST /v1.0/me/drive/items/{item-id}/follow`` marks an item the caller may
see and answers it with ``@libre.graph.me.following``;
``DELETE /v1.0/me/drive/following/{item-id}`` unmarks it. The mark is the
caller's own, the same one WebDAV's PROPPATCH sets and REPORT filter-files
finds; items are named by resource id or share jail id (app.reach).
"""

from __future__ import annotations

from flask import Response
from flask.typing import ResponseReturnValue

from app import acl, favorites, reach
from app.auth.principal import Principal
from app.errors import NotFound
from app.instance import Grove
from graph import caller, drive_json
from graph.api import Blueprint
from graph.drive_items import ItemSchema
from graph.drives import annotation

FOLLOWING = "@libre.graph.me.following"


class FollowedItemSchema(ItemSchema):
    following = annotation(FOLLOWING, type="boolean")


def _reached(grove: Grove, principal: Principal, item_id: str) -> reach.Reached:
    drive_id, bang, _ = item_id.rpartition("!")
    if not bang:
        raise NotFound(f"no item {item_id!r}")
    memo: acl.Memo = {}
    return reach.item(grove.tree, principal, drive_id, item_id, memo)


def create_blueprint(grove: Grove) -> Blueprint:
    blp = Blueprint("favorites", __name__, description="Following drive items")

    @blp.route("/v1.0/me/drive/items/<item_id>/follow", methods=["POST"])
    @blp.response(201, FollowedItemSchema)
    def follow(item_id: str) -> ResponseReturnValue:
        """Mark an item as followed (a favourite) for the caller."""
        principal = caller.principal(write=True)
        reached = _reached(grove, principal, item_id)
        favorites.set_favorite(principal.user_id, reached.item.id, True)
        out = drive_json.item(reached.space, reached.item)
        out[FOLLOWING] = True
        return out

    @blp.route("/v1.0/me/drive/following/<item_id>", methods=["DELETE"])
    @blp.response(204)
    def unfollow(item_id: str) -> ResponseReturnValue:
        """Unmark an item the caller followed."""
        principal = caller.principal(write=True)
        reached = _reached(grove, principal, item_id)
        favorites.set_favorite(principal.user_id, reached.item.id, False)
        return Response(status=204)

    return blp
