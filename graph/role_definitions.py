"""``/v1beta1/roleManagement/permissions/roleDefinitions``: the unified roles a
share or a space membership may carry, with their fixed ids (app.roles)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from app import roles
from app.errors import NotFound
from app.instance import Grove
from graph.api import Blueprint
from graph.caller import principal

PATH = "/v1beta1/roleManagement/permissions/roleDefinitions"


class RolePermission(ma.Schema):
    allowedResourceActions = ma.fields.List(ma.fields.String())  # noqa: N815
    condition = ma.fields.String()


class RoleDefinition(ma.Schema):
    id = ma.fields.String()
    displayName = ma.fields.String()  # noqa: N815
    description = ma.fields.String()
    rolePermissions = ma.fields.List(ma.fields.Nested(RolePermission))  # noqa: N815
    weight = ma.fields.Integer(data_key="@libre.graph.weight")


def _definition(role: roles.Role) -> dict[str, Any]:
    # The schema's attribute is ``weight``; the wire name comes from data_key.
    found = role.graph()
    found["weight"] = found.pop("@libre.graph.weight")
    return found


def create_blueprint(grove: Grove) -> Blueprint:
    blueprint = Blueprint(
        "role_definitions", __name__, description="Unified roles (libre-graph)"
    )

    @blueprint.route(PATH, methods=["GET"])
    @blueprint.response(200, RoleDefinition(many=True))
    def listing() -> Any:
        """Every unified role, weakest first as OpenCloud lists them."""
        principal()
        ordered = sorted(roles.ALL, key=lambda role: role.weight)
        return [_definition(role) for role in ordered]

    @blueprint.route(f"{PATH}/<string:role_id>", methods=["GET"])
    @blueprint.response(200, RoleDefinition)
    def get(role_id: str) -> Any:
        """One unified role by its id."""
        principal()
        role = roles.BY_ID.get(role_id)
        if role is None:
            raise NotFound(f"no role definition {role_id!r}")
        return _definition(role)

    return blueprint
