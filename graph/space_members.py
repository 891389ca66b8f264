"""Space membership through the drive root's permissions: invite, list, change
and remove members (users and groups with a space role, optional expiration).

Every member sees the members; Managers and admins change them. The last
Manager cannot be removed or lose the role (403). The root's public links
(graph.space_links) are listed, changed and removed here too, for those who
may see a drive's grants.
"""

from __future__ import annotations

import time
from typing import Any

import marshmallow as ma
from flask import request
from flask.typing import ResponseReturnValue

from app import acl, roles, spaces
from app.auth.principal import Principal
from app.errors import BadRequest, Forbidden, NotFound
from app.instance import Grove
from app.models import Grant, Space
from app.perms import Perm
from graph import caller, drive_json, space_links
from graph.api import Blueprint, GraphSchema
from graph.drives import find
from graph.sharing import LinkUpdate, PermissionSchema

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
    link = ma.fields.Nested(LinkUpdate)


class MemberCollection(ma.Schema):
    value = ma.fields.List(ma.fields.Nested(PermissionSchema))


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


def _grant_viewer(principal: Principal, space: Space) -> Perm | None:
    """The caller's permissions on the root if they may see its links (who may
    share the drive or list its grants), else None."""
    perms = acl.permissions(principal, space, [])
    return perms if perms & (Perm.SHARE | Perm.LIST_GRANTS | Perm.MANAGE) else None


def _link(space: Space, perm_id: str) -> Grant | None:
    return next((g for g in space_links.on_root(space) if g.id == perm_id), None)


def _root_grant(principal: Principal, space: Space, perm_id: str) -> dict[str, Any]:
    """One member or (for who sees grants) one root link as a ``permission``."""
    link = _link(space, perm_id)
    if link is None:
        return drive_json.permission(spaces.member(space, perm_id))
    perms = _grant_viewer(principal, space)
    if perms is None:
        raise NotFound(f"no member {perm_id!r} in space {space.name!r}")
    return space_links.view(link, perms)


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
        """The members of a drive (and its links), and the roles and actions
        members may get."""
        principal = caller.principal()
        space = find(principal, drive_id)
        found = [drive_json.permission(g) for g in spaces.members(space)]
        perms = _grant_viewer(principal, space)
        if perms is not None:
            found += [space_links.view(g, perms) for g in space_links.on_root(space)]
        return {
            "value": found,
            "roles_allowed": drive_json.allowed_roles(),
            "actions_allowed": _ACTIONS,
        }

    @blp.route("/v1beta1/drives/<drive_id>/root/permissions/<perm_id>", methods=["GET"])
    @blp.response(200, PermissionSchema)
    def get_member(drive_id: str, perm_id: str) -> ResponseReturnValue:
        """One member (or link) of a drive."""
        principal = caller.principal()
        return _root_grant(principal, find(principal, drive_id), perm_id)

    @blp.route(
        "/v1beta1/drives/<drive_id>/root/permissions/<perm_id>", methods=["PATCH"]
    )
    @blp.arguments(MemberUpdate)
    @blp.response(200, PermissionSchema)
    def update_member(
        body: dict[str, Any], drive_id: str, perm_id: str
    ) -> ResponseReturnValue:
        """Change a member's role or expiration, or a link's type, name or
        expiration."""
        principal = caller.principal(write=True)
        space = find(principal, drive_id)
        link = _link(space, perm_id)
        if link is not None:
            return space_links.update(grove, principal, space, link, body)
        if "link" in body:
            raise BadRequest("a member has roles, not a link")
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
        """Take a member's role away, or remove a link."""
        principal = caller.principal(write=True)
        link = _link(find(principal, drive_id), perm_id)
        if link is not None:
            space_links.remove(grove, principal, link.space, link)
            return ""
        space = _managed(principal, drive_id)
        spaces.remove_member(
            space,
            spaces.member(space, perm_id),
            actor=principal.name,
            address=request.remote_addr or "",
        )
        return ""

    return blp
