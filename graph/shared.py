"""What was shared with the caller and what they shared, in the libre-graph API.

``sharedWithMe`` lists the shares in the caller's share jail (accepted
automatically); the recipient hides one (``@UI.Hidden``) or stops syncing it
(``@client.synchronize``, also by deleting the jail item) with the jail
item's PATCH, and syncs it again by posting its ``remoteItem`` to the jail's
root children, as OpenCloud's clients do. ``sharedByMe`` lists the items
the caller shared, with their shares and links.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask.typing import ResponseReturnValue

from app import acl, shares
from app.auth.principal import Principal
from app.errors import BadRequest, NotFound
from app.instance import Grove
from app.models import Grant
from app.perms import VISIBLE
from app.storage import lookup
from graph import caller, share_json
from graph.api import Blueprint, GraphSchema, QuerySchema
from graph.drive_items import ItemSchema
from graph.errors import NotSupported

_JAIL_ROOTS = [
    f"/v1beta1/drives/{jail}/root/children"
    for jail in (shares.JAIL_DRIVE_ID, shares.JAIL_ID)
]
_JAIL_ITEMS = [
    f"/v1beta1/drives/{jail}/items/<item_id>"
    for jail in (shares.JAIL_DRIVE_ID, shares.JAIL_ID)
]


class SharedQuery(QuerySchema):
    expand = ma.fields.String(data_key="$expand")


class SharedItemSchema(ItemSchema):
    remoteItem = ma.fields.Dict()  # noqa: N815
    permissions = ma.fields.List(ma.fields.Dict())
    hidden = ma.fields.Boolean(data_key="@UI.Hidden")
    synchronize = ma.fields.Boolean(data_key="@client.synchronize")


class SharedCollection(ma.Schema):
    value = ma.fields.List(ma.fields.Nested(SharedItemSchema))


class RemoteReference(GraphSchema):
    id = ma.fields.String(required=True)


class MountRequest(GraphSchema):
    """A ``driveItem`` posted to the jail's root: a share to mount (sync)."""

    name = ma.fields.String()
    remoteItem = ma.fields.Nested(RemoteReference, required=True)  # noqa: N815
    folder = ma.fields.Dict()
    file = ma.fields.Dict()


class MountQuery(QuerySchema):
    conflict = ma.fields.String(
        data_key="@libre.graph.conflictBehavior",
        validate=ma.validate.OneOf(["fail", "replace"]),
    )


class ShareStateUpdate(GraphSchema):
    hidden = ma.fields.Boolean(data_key="@UI.Hidden")
    synchronize = ma.fields.Boolean(data_key="@client.synchronize")


def _no_expand(query: dict[str, Any]) -> None:
    if query.get("expand"):
        raise NotSupported("$expand (thumbnails) is not supported by Grove")


def _rename(out: dict[str, Any]) -> dict[str, Any]:
    """The annotations under the schema's attribute names."""
    out["hidden"] = out.pop("@UI.Hidden")
    out["synchronize"] = out.pop("@client.synchronize")
    return out


def create_blueprint(grove: Grove) -> Blueprint:
    blp = Blueprint("shared", __name__, description="Shared with me and by me")

    def received(principal: Principal) -> list[dict[str, Any]]:
        out = []
        memo = acl.request_memo(request.environ)
        for mount in shares.mounts(principal.user_id):
            item = grove.tree(mount.space).item(mount.parts)
            perms = acl.permissions(
                principal, mount.space, mount.parts, grant=mount.grant, memo=memo
            )
            if item is not None and perms & VISIBLE:
                out.append(_rename(share_json.shared_with_me(mount, item)))
        return out

    def one(grant_id: str) -> shares.Mount:
        for mount in shares.mounts(caller.principal().user_id):
            if str(mount.grant.id) == grant_id:
                return mount
        raise NotFound(f"no share {grant_id!r} received")

    def answer(mount: shares.Mount) -> dict[str, Any]:
        item = grove.tree(mount.space).item(mount.parts)
        if item is None:
            raise NotFound(f"the share {str(mount.grant.id)!r} leads nowhere")
        return _rename(share_json.shared_with_me(mount, item))

    def grant_id_of(item_id: str) -> str:
        found = item_id.rpartition("!")[2]
        if not found:
            raise NotFound(f"no item {item_id!r} in the share jail")
        return found

    @blp.route("/v1beta1/me/drive/sharedWithMe")
    @blp.arguments(SharedQuery, location="query")
    @blp.response(200, SharedCollection)
    def shared_with_me(query: dict[str, Any]) -> ResponseReturnValue:
        """The shares the caller received, each in their share jail."""
        _no_expand(query)
        return {"value": received(caller.principal())}

    @blp.route("/v1beta1/me/drive/sharedByMe")
    @blp.arguments(SharedQuery, location="query")
    @blp.response(200, SharedCollection)
    def shared_by_me(query: dict[str, Any]) -> ResponseReturnValue:
        """The items the caller shared, with their shares and links."""
        _no_expand(query)
        by_node: dict[str, list[Grant]] = {}
        for grant in shares.given_by(caller.principal().user_id):
            by_node.setdefault(str(grant.node_id), []).append(grant)
        out = []
        for node_id, grants in by_node.items():
            item = lookup.item(grove.tree, node_id)
            if item is not None:
                out.append(share_json.shared_by_me(item.tree.space, item, grants))
        return {"value": out}

    for index, rule in enumerate(_JAIL_ROOTS):

        @blp.route(rule, methods=["POST"], endpoint=f"mount_share{index}")
        @blp.arguments(MountQuery, location="query")
        @blp.arguments(MountRequest)
        @blp.response(200, SharedItemSchema)
        def mount_share(query: dict[str, Any], body: dict[str, Any]) -> Any:
            """Sync a received share again, optionally under another name."""
            if "folder" in body or "file" in body:
                raise BadRequest("the share jail holds shares only")
            if query.get("conflict") == "replace":
                raise NotSupported("replacing a share in the jail is not supported")
            mount = shares.mount_item(
                caller.principal(write=True),
                lookup.node_id_of(body["remoteItem"]["id"]),
                name=body.get("name"),
                address=request.remote_addr or "",
            )
            return answer(mount)

    for index, rule in enumerate(_JAIL_ITEMS):

        @blp.route(rule, methods=["GET"], endpoint=f"get_jail_item{index}")
        @blp.response(200, SharedItemSchema)
        def get_jail_item(item_id: str) -> ResponseReturnValue:
            """A share the caller received, as an item of their share jail."""
            return answer(one(grant_id_of(item_id)))

        @blp.route(rule, methods=["PATCH"], endpoint=f"patch_jail_item{index}")
        @blp.arguments(ShareStateUpdate)
        @blp.response(200, SharedItemSchema)
        def update_jail_item(body: dict[str, Any], item_id: str) -> ResponseReturnValue:
            """Hide or show a received share, or start or stop syncing it."""
            principal = caller.principal(write=True)
            mount = shares.set_state(
                principal,
                grant_id_of(item_id),
                hidden=body.get("hidden"),
                synchronize=body.get("synchronize"),
                address=request.remote_addr or "",
            )
            return answer(mount)

        @blp.route(rule, methods=["DELETE"], endpoint=f"delete_jail_item{index}")
        @blp.response(204)
        def unmount_jail_item(item_id: str) -> ResponseReturnValue:
            """Stop syncing a received share (it stays in sharedWithMe)."""
            principal = caller.principal(write=True)
            shares.set_state(
                principal,
                grant_id_of(item_id),
                synchronize=False,
                address=request.remote_addr or "",
            )
            return ""

    return blp
