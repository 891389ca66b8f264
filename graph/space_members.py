"""Space membership through the drive root's permissions: invite, list, change
and remove members (users and groups with a space role, optional expiration).

Every member sees the list; Managers and admins change it. The last Manager
cannot be removed or lose the role (403).
"""

from __future__ import annotations

import time
from typing import Any

import marshmallow as ma
from flask import request
from flask.typing import ResponseReturnValue

from app import acl, roles, spaces
from app.auth.principal import Principal
from app.errors import BadRequest, Forbidden
from app.instance import Grove
from app.models import Space
from graph import caller, drive_json
from graph.api import Blueprint, GraphSchema
from graph.drives import find

_ACTIONS = sorted(
    {f"libre.graph/driveItem/{a}" for role in roles.SPACE_ROLES for a in role.actions}
)


class MemberRecipient(GraphSchema):
    objectId = ma.fields.String(required=True)  # noqa: N815
    recipient_type = ma.fields.String(
        data_key="@libre.graph.recipient.type",
        validate=ma.validate.OneOf(["user", "group"]),
        load_default="user",
    )


class MemberInvite(GraphSchema):
    NOT_SUPPORTED = frozenset({"@libre.graph.permissions.actions"})

    recipients = ma.fields.List(
        ma.fields.Nested(MemberRecipient),
        required=True,
        validate=ma.validate.Length(min=1),
    )
    roles = ma.fields.List(
        ma.fields.String(), required=True, validate=ma.validate.Length(equal=1)
    )
    expirationDateTime = ma.fields.AwareDateTime(allow_none=True)  # noqa: N815


class MemberUpdate(GraphSchema):
    NOT_SUPPORTED = frozenset(
        {
            "link",
            "hasPassword",
            "grantedToIdentities",
            "@libre.graph.permissions.actions",
            "invitation",
        }
    )

    roles = ma.fields.List(ma.fields.String(), validate=ma.validate.Length(equal=1))
    expirationDateTime = ma.fields.AwareDateTime(allow_none=True)  # noqa: N815
    id = ma.fields.String()
    grantedToV2 = ma.fields.Dict()  # noqa: N815
    createdDateTime = ma.fields.String()  # noqa: N815


class MemberSchema(ma.Schema):
    id = ma.fields.String()
    roles = ma.fields.List(ma.fields.String())
    grantedToV2 = ma.fields.Dict()  # noqa: N815
    createdDateTime = ma.fields.String()  # noqa: N815
    expirationDateTime = ma.fields.String()  # noqa: N815


class MemberCollection(ma.Schema):
    value = ma.fields.List(ma.fields.Nested(MemberSchema))


class MemberListing(MemberCollection):
    roles_allowed = ma.fields.List(
        ma.fields.Dict(), data_key="@libre.graph.permissions.roles.allowedValues"
    )
    actions_allowed = ma.fields.List(
        ma.fields.String(), data_key="@libre.graph.permissions.actions.allowedValues"
    )


def _expiry(body: dict[str, Any]) -> float | None:
    moment = body.get("expirationDateTime")
    if moment is None:
        return None
    expires = float(moment.timestamp())
    if expires <= time.time():
        raise BadRequest("the expiration lies in the past")
    return expires


def _managed(principal: Principal, drive_id: str) -> Space:
    space = find(principal, drive_id)
    if space.disabled is not None:
        raise Forbidden(f"drive {space.name!r} is disabled")
    if not acl.may_manage_space(principal, space):
        raise Forbidden(f"only a Manager of {space.name!r} or an admin may do this")
    return space


def create_blueprint(grove: Grove) -> Blueprint:
    blp = Blueprint("space_members", __name__, description="Space members")

    @blp.route("/v1beta1/drives/<drive_id>/root/invite", methods=["POST"])
    @blp.arguments(MemberInvite)
    @blp.response(200, MemberCollection)
    def invite(body: dict[str, Any], drive_id: str) -> ResponseReturnValue:
        """Make users or groups members of a project drive with a space role."""
        principal = caller.principal(write=True)
        space = _managed(principal, drive_id)
        expires = _expiry(body)
        made = [
            spaces.add_member(
                space,
                recipient["recipient_type"],
                recipient["objectId"],
                body["roles"][0],
                expires=expires,
                created_by=principal.user_id,
                actor=principal.name,
                address=request.remote_addr or "",
            )
            for recipient in body["recipients"]
        ]
        return {"value": [drive_json.permission(grant) for grant in made]}

    @blp.route("/v1beta1/drives/<drive_id>/root/permissions", methods=["GET"])
    @blp.response(200, MemberListing)
    def list_members(drive_id: str) -> ResponseReturnValue:
        """The members of a drive, and the roles and actions they may get."""
        space = find(caller.principal(), drive_id)
        return {
            "value": [drive_json.permission(g) for g in spaces.members(space)],
            "roles_allowed": drive_json.allowed_roles(),
            "actions_allowed": _ACTIONS,
        }

    @blp.route("/v1beta1/drives/<drive_id>/root/permissions/<perm_id>", methods=["GET"])
    @blp.response(200, MemberSchema)
    def get_member(drive_id: str, perm_id: str) -> ResponseReturnValue:
        """One member of a drive."""
        space = find(caller.principal(), drive_id)
        return drive_json.permission(spaces.member(space, perm_id))

    @blp.route(
        "/v1beta1/drives/<drive_id>/root/permissions/<perm_id>", methods=["PATCH"]
    )
    @blp.arguments(MemberUpdate)
    @blp.response(200, MemberSchema)
    def update_member(
        body: dict[str, Any], drive_id: str, perm_id: str
    ) -> ResponseReturnValue:
        """Change a member's role or expiration."""
        principal = caller.principal(write=True)
        space = _managed(principal, drive_id)
        grant = spaces.member(space, perm_id)
        changes: dict[str, Any] = {}
        if "roles" in body:
            changes["role_id"] = body["roles"][0]
        if "expirationDateTime" in body:
            changes["expires"] = _expiry(body)
        spaces.update_member(
            space,
            grant,
            **changes,
            actor=principal.name,
            address=request.remote_addr or "",
        )
        return drive_json.permission(grant)

    @blp.route(
        "/v1beta1/drives/<drive_id>/root/permissions/<perm_id>", methods=["DELETE"]
    )
    @blp.response(204)
    def remove_member(drive_id: str, perm_id: str) -> ResponseReturnValue:
        """Take a member's role away."""
        principal = caller.principal(write=True)
        space = _managed(principal, drive_id)
        spaces.remove_member(
            space,
            spaces.member(space, perm_id),
            actor=principal.name,
            address=request.remote_addr or "",
        )
        return ""

    return blp
