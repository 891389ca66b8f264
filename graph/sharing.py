"""Sharing a drive item through the libre-graph API: invite users and groups
with a role, create public links, and list, change, remove and set the
password of an item's permissions.

The caller names the item by its drive and resource id (or, for a share they
received, by its share jail id); what they may do is app.acl's answer
through app.reach. A project drive's root is shared through its members
(graph.space_members).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask.typing import ResponseReturnValue

from app import acl, links, reach, roles, shares
from app.auth.principal import Principal
from app.errors import BadRequest, Forbidden, NotFound
from app.instance import Grove
from app.models import Grant, GroupMember
from app.perms import Perm
from graph import caller, odata, share_json
from graph.api import Blueprint, GraphSchema, QuerySchema
from graph.errors import NotSupported

_ITEM = "/v1beta1/drives/<drive_id>/items/<item_id>"
_PERMISSION = _ITEM + "/permissions/<perm_id>"
_A = "libre.graph/driveItem/"
_READ_ONLY = frozenset(
    {
        "id",
        "hasPassword",
        "createdDateTime",
        "grantedToV2",
        "grantedToIdentities",
        "invitation",
        "@libre.graph.permissions.actions",
    }
)


class Recipient(GraphSchema):
    objectId = ma.fields.String(required=True)  # noqa: N815
    recipient_type = ma.fields.String(
        data_key="@libre.graph.recipient.type",
        validate=ma.validate.OneOf(["user", "group"]),
        load_default="user",
    )


class Invite(GraphSchema):
    NOT_SUPPORTED = frozenset({"@libre.graph.permissions.actions"})

    recipients = ma.fields.List(
        ma.fields.Nested(Recipient), required=True, validate=ma.validate.Length(min=1)
    )
    roles = ma.fields.List(
        ma.fields.String(), required=True, validate=ma.validate.Length(equal=1)
    )
    expirationDateTime = ma.fields.AwareDateTime()  # noqa: N815


_LINK_TYPES = ma.validate.OneOf(sorted(roles.LINK_PERMS))


class CreateLink(GraphSchema):
    type = ma.fields.String(load_default="view", validate=_LINK_TYPES)
    expirationDateTime = ma.fields.AwareDateTime()  # noqa: N815
    password = ma.fields.String()
    displayName = ma.fields.String(validate=ma.validate.Length(max=255))  # noqa: N815
    # Grove keeps no quick link: only "not a quick link" is accepted.
    quick_link = ma.fields.Boolean(data_key="@libre.graph.quickLink")


class LinkUpdate(GraphSchema):
    NOT_SUPPORTED = frozenset({"preventsDownload", "webUrl"})

    type = ma.fields.String(validate=_LINK_TYPES)
    display_name = ma.fields.String(
        data_key="@libre.graph.displayName", validate=ma.validate.Length(max=255)
    )
    quick_link = ma.fields.Boolean(data_key="@libre.graph.quickLink")


class PermissionUpdate(GraphSchema):
    NOT_SUPPORTED = _READ_ONLY

    roles = ma.fields.List(ma.fields.String(), validate=ma.validate.Length(equal=1))
    expirationDateTime = ma.fields.AwareDateTime(allow_none=True)  # noqa: N815
    link = ma.fields.Nested(LinkUpdate)
    # Not in the permission schema, but named by the operation's description.
    password = ma.fields.String()


class Password(GraphSchema):
    password = ma.fields.String(required=True)


class PermissionsQuery(QuerySchema):
    select = ma.fields.String(data_key="$select")
    filter = ma.fields.String(data_key="$filter")
    count = ma.fields.Boolean(data_key="$count")
    top = ma.fields.Integer(data_key="$top", validate=ma.validate.Range(min=0))
    skip = ma.fields.Integer(data_key="$skip", validate=ma.validate.Range(min=0))


class PermissionSchema(ma.Schema):
    id = ma.fields.String()
    roles = ma.fields.List(ma.fields.String())
    hasPassword = ma.fields.Boolean()  # noqa: N815
    grantedToV2 = ma.fields.Dict()  # noqa: N815
    invitation = ma.fields.Dict()
    link = ma.fields.Dict()
    createdDateTime = ma.fields.String()  # noqa: N815
    expirationDateTime = ma.fields.String()  # noqa: N815


class PermissionCollection(ma.Schema):
    value = ma.fields.List(ma.fields.Nested(PermissionSchema))


class PermissionListing(ma.Schema):
    value = ma.fields.List(ma.fields.Nested(PermissionSchema))
    count = ma.fields.Integer(data_key="@odata.count")
    roles_allowed = ma.fields.List(
        ma.fields.Dict(), data_key="@libre.graph.permissions.roles.allowedValues"
    )
    actions_allowed = ma.fields.List(
        ma.fields.String(), data_key="@libre.graph.permissions.actions.allowedValues"
    )


_SELECTABLE = {
    "value": "value",
    "@libre.graph.permissions.roles.allowedValues": "roles_allowed",
    "@libre.graph.permissions.actions.allowedValues": "actions_allowed",
}


def _expiry(body: dict[str, Any]) -> float | None:
    moment = body.get("expirationDateTime")
    return None if moment is None else float(moment.timestamp())


def _no_quick_link(body: dict[str, Any]) -> None:
    if body.get("quick_link"):
        raise NotSupported("'@libre.graph.quickLink' is not supported by Grove")


def _mine(principal: Principal) -> set[str]:
    groups = GroupMember.select(GroupMember.group_id).where(
        GroupMember.user == principal.user_id
    )
    return {principal.user_id, *(str(row.group_id) for row in groups)}


def _allowed_roles(found: reach.Reached) -> list[roles.Role]:
    """The roles the caller may give on the item."""
    if Perm.SHARE not in found.perms:
        return []
    allowed = []
    for role in shares.allowed_roles(is_dir=found.item.is_dir):
        try:
            shares.check_role(role.id, item=found.item, perms=found.perms)
        except (BadRequest, Forbidden):
            continue
        allowed.append(role)
    return allowed


def _listing(found: reach.Reached, principal: Principal) -> dict[str, Any]:
    grants = share_json.visible_grants(
        shares.on_item(found.item), found.perms, _mine(principal)
    )
    secrets = Perm.SHARE in found.perms
    allowed = _allowed_roles(found)
    return {
        "value": [share_json.permission(g, secrets=secrets) for g in grants],
        "roles_allowed": [role.graph() for role in allowed],
        "actions_allowed": sorted({_A + a for role in allowed for a in role.actions}),
    }


def _shaped(listing: dict[str, Any], query: dict[str, Any]) -> dict[str, Any]:
    if query.get("filter"):
        raise NotSupported("$filter on permissions is not supported by Grove")
    total = len(listing["value"])
    listing["value"] = odata.page(listing["value"], query.get("top"), query.get("skip"))
    chosen = odata.names(query.get("select"), _SELECTABLE, "$select")
    if chosen:
        keep = {_SELECTABLE[name] for name in chosen}
        listing = {key: value for key, value in listing.items() if key in keep}
    if query.get("count"):
        listing["count"] = total
    return listing


def _address() -> str:
    return request.remote_addr or ""


def _update_link(found: reach.Reached, grant: Grant, body: dict[str, Any]) -> None:
    if "roles" in body:
        raise BadRequest("a link has a type, not roles")
    link = body.get("link", {})
    _no_quick_link(link)
    links.update(
        caller.principal(),
        grant,
        found.item,
        found.perms,
        link_type=link.get("type"),
        expires=_expiry(body) if "expirationDateTime" in body else shares.UNSET,
        display_name=link.get("display_name"),
        address=_address(),
    )
    if "password" in body:
        links.set_password(
            caller.principal(), grant, found.perms, body["password"], _address()
        )


def _update_share(found: reach.Reached, grant: Grant, body: dict[str, Any]) -> None:
    if "link" in body or "password" in body:
        raise BadRequest("a share has roles, not a link or a password")
    chosen = body.get("roles")
    shares.update(
        caller.principal(),
        grant,
        found.item,
        found.perms,
        role=chosen[0] if chosen else None,
        expires=_expiry(body) if "expirationDateTime" in body else shares.UNSET,
        address=_address(),
    )


def create_blueprint(grove: Grove) -> Blueprint:
    blp = Blueprint("sharing", __name__, description="Shares and public links")

    def reached(drive_id: str, item_id: str, *, write: bool = False) -> reach.Reached:
        principal = caller.principal(write=write)
        memo = acl.request_memo(request.environ)
        return reach.item(grove.tree, principal, drive_id, item_id, memo)

    def grant_of(found: reach.Reached, perm_id: str) -> Grant:
        grant = Grant.get_or_none(Grant.id == perm_id)
        # A space membership (a grant on the root) is changed as a member.
        if grant is None or grant.node_id != found.item.id or not found.item.parts:
            raise NotFound(f"no permission {perm_id!r} on this item")
        mine = _mine(caller.principal())
        if grant not in share_json.visible_grants([grant], found.perms, mine):
            raise NotFound(f"no permission {perm_id!r} on this item")
        return grant

    @blp.route(_ITEM + "/invite", methods=["POST"])
    @blp.arguments(Invite)
    @blp.response(200, PermissionCollection)
    def invite(
        body: dict[str, Any], drive_id: str, item_id: str
    ) -> ResponseReturnValue:
        """Share a file or folder with users or groups, with one role."""
        found = reached(drive_id, item_id, write=True)
        made = shares.invite(
            caller.principal(),
            found.item,
            found.perms,
            [(r["recipient_type"], r["objectId"]) for r in body["recipients"]],
            role=body["roles"][0],
            expires=_expiry(body),
            address=_address(),
        )
        return {"value": [share_json.permission(grant) for grant in made]}

    @blp.route(_ITEM + "/createLink", methods=["POST"])
    @blp.arguments(CreateLink)
    @blp.response(200, PermissionSchema)
    def create_link(
        body: dict[str, Any], drive_id: str, item_id: str
    ) -> ResponseReturnValue:
        """Create a public link of a type, with an optional password and expiry."""
        _no_quick_link(body)
        found = reached(drive_id, item_id, write=True)
        grant = links.create(
            caller.principal(),
            found.item,
            found.perms,
            link_type=body["type"],
            password=body.get("password"),
            expires=_expiry(body),
            display_name=body.get("displayName", ""),
            address=_address(),
        )
        return share_json.permission(grant)

    @blp.route(_ITEM + "/permissions", methods=["GET"])
    @blp.arguments(PermissionsQuery, location="query")
    @blp.response(200, PermissionListing)
    def list_permissions(
        query: dict[str, Any], drive_id: str, item_id: str
    ) -> ResponseReturnValue:
        """An item's shares and links the caller may see, and the roles they
        may give."""
        found = reached(drive_id, item_id)
        return _shaped(_listing(found, caller.principal()), query)

    @blp.route(_PERMISSION, methods=["GET"])
    @blp.response(200, PermissionSchema)
    def get_permission(
        drive_id: str, item_id: str, perm_id: str
    ) -> ResponseReturnValue:
        """One share or link of an item."""
        found = reached(drive_id, item_id)
        secrets = Perm.SHARE in found.perms
        return share_json.permission(grant_of(found, perm_id), secrets=secrets)

    @blp.route(_PERMISSION, methods=["PATCH"])
    @blp.arguments(PermissionUpdate)
    @blp.response(200, PermissionSchema)
    def update_permission(
        body: dict[str, Any], drive_id: str, item_id: str, perm_id: str
    ) -> ResponseReturnValue:
        """Change a share's role or expiration, or a link's type, name or expiration."""
        found = reached(drive_id, item_id, write=True)
        grant = grant_of(found, perm_id)
        if grant.grantee_type == "link":
            _update_link(found, grant, body)
        else:
            _update_share(found, grant, body)
        return share_json.permission(grant)

    @blp.route(_PERMISSION, methods=["DELETE"])
    @blp.response(204)
    def delete_permission(
        drive_id: str, item_id: str, perm_id: str
    ) -> ResponseReturnValue:
        """Remove a share or a link."""
        found = reached(drive_id, item_id, write=True)
        grant = grant_of(found, perm_id)
        shares.remove(caller.principal(), grant, found.perms, _address())
        return ""

    @blp.route(_PERMISSION + "/setPassword", methods=["POST"])
    @blp.arguments(Password)
    @blp.response(200, PermissionSchema)
    def set_password(
        body: dict[str, Any], drive_id: str, item_id: str, perm_id: str
    ) -> ResponseReturnValue:
        """Set or (with "") remove a link's password."""
        found = reached(drive_id, item_id, write=True)
        grant = links.set_password(
            caller.principal(),
            grant_of(found, perm_id),
            found.perms,
            body["password"],
            _address(),
        )
        return share_json.permission(grant)

    return blp
