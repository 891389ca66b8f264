"""Accounts' global roles in the libre-graph API: ``applications`` lists the
one application (this Grove) with its app roles (Admin, Space Admin, User),
``users/{id}/appRoleAssignments`` shows and changes the one role an account
holds. Reading is for the account itself and admins, changing for admins.
"""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import request
from flask.typing import ResponseReturnValue

from app import account_roles, users
from app.account_roles import AppRole
from app.errors import BadRequest, Forbidden, NotFound
from app.instance import Grove
from app.migrate import storage_id
from app.models import User
from graph import caller
from graph.api import Blueprint, GraphSchema

# Assignment ids are derived, not stored: one per (account, role).
_NAMESPACE = uuid.UUID("5c1b0e7e-1f5a-4c58-9a52-4f0b9d2b6a31")


class AppRoleSchema(ma.Schema):
    id = ma.fields.String()
    displayName = ma.fields.String()  # noqa: N815
    description = ma.fields.String()
    allowedMemberTypes = ma.fields.List(ma.fields.String())  # noqa: N815


class ApplicationSchema(ma.Schema):
    id = ma.fields.String()
    displayName = ma.fields.String()  # noqa: N815
    appRoles = ma.fields.List(ma.fields.Nested(AppRoleSchema))  # noqa: N815


class ApplicationCollection(ma.Schema):
    value = ma.fields.List(ma.fields.Nested(ApplicationSchema))


class AssignmentSchema(ma.Schema):
    id = ma.fields.String()
    appRoleId = ma.fields.String()  # noqa: N815
    principalId = ma.fields.String()  # noqa: N815
    principalDisplayName = ma.fields.String()  # noqa: N815
    principalType = ma.fields.String()  # noqa: N815
    resourceId = ma.fields.String()  # noqa: N815
    resourceDisplayName = ma.fields.String()  # noqa: N815


class AssignmentCollection(ma.Schema):
    value = ma.fields.List(ma.fields.Nested(AssignmentSchema))


class AssignmentInput(GraphSchema):
    NOT_SUPPORTED = frozenset({"deletedDateTime"})

    appRoleId = ma.fields.String(required=True)  # noqa: N815
    principalId = ma.fields.String(required=True)  # noqa: N815
    resourceId = ma.fields.String(required=True)  # noqa: N815
    id = ma.fields.String()
    createdDateTime = ma.fields.String()  # noqa: N815
    principalDisplayName = ma.fields.String()  # noqa: N815
    principalType = ma.fields.String()  # noqa: N815
    resourceDisplayName = ma.fields.String()  # noqa: N815


def application() -> dict[str, Any]:
    """This Grove as the one ``application``; its id is the storage id."""
    return {
        "id": storage_id(),
        "displayName": "Grove",
        "appRoles": [
            {
                "id": role.id,
                "displayName": role.display_name,
                "description": role.description,
                "allowedMemberTypes": ["User"],
            }
            for role in account_roles.ALL
        ],
    }


def assignment_id(user: User, role: AppRole) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{user.id}/{role.id}"))


def assignment(user: User) -> dict[str, Any]:
    """The ``appRoleAssignment`` of the role ``user`` holds."""
    role = account_roles.of(user)
    return {
        "id": assignment_id(user, role),
        "appRoleId": role.id,
        "principalId": str(user.id),
        "principalDisplayName": str(user.display_name),
        "principalType": "User",
        "resourceId": storage_id(),
        "resourceDisplayName": "Grove",
    }


def _account(user_id: str, *, change: bool) -> User:
    """The account named in the path, if the caller may read (or change) it."""
    principal = caller.principal(write=change)
    if change and not principal.is_admin:
        raise Forbidden("only admins change roles")
    try:
        user = users.get(user_id)
    except NotFound:
        raise NotFound(f"no user {user_id!r}") from None
    if not principal.is_admin and user.id != principal.user_id:
        raise NotFound(f"no user {user_id!r}")
    return user


def create_blueprint(grove: Grove) -> Blueprint:
    blp = Blueprint("app_roles", __name__, description="Global roles")

    @blp.route("/v1.0/applications")
    @blp.response(200, ApplicationCollection)
    def applications() -> ResponseReturnValue:
        """The application (this Grove) and its app roles."""
        return {"value": [application()]}

    @blp.route("/v1.0/applications/<application_id>")
    @blp.response(200, ApplicationSchema)
    def one_application(application_id: str) -> ResponseReturnValue:
        """The application by id."""
        if application_id != storage_id():
            raise NotFound(f"no application {application_id!r}")
        return application()

    @blp.route("/v1.0/users/<user_id>/appRoleAssignments", methods=["GET"])
    @blp.response(200, AssignmentCollection)
    def assignments(user_id: str) -> ResponseReturnValue:
        """The role an account holds (one)."""
        return {"value": [assignment(_account(user_id, change=False))]}

    @blp.route("/v1.0/users/<user_id>/appRoleAssignments", methods=["POST"])
    @blp.arguments(AssignmentInput)
    @blp.response(200, AssignmentSchema)
    def assign(body: dict[str, Any], user_id: str) -> ResponseReturnValue:
        """Give an account a role in place of the one it holds (admins)."""
        user = _account(user_id, change=True)
        if body["principalId"] != user.id:
            raise BadRequest("principalId must be the id of the user in the path")
        if body["resourceId"] != storage_id():
            raise BadRequest(f"resourceId must be this Grove's {storage_id()!r}")
        account_roles.assign(
            user,
            account_roles.get(body["appRoleId"]),
            actor=caller.principal().name,
            address=request.remote_addr or "",
        )
        return assignment(user)

    @blp.route(
        "/v1.0/users/<user_id>/appRoleAssignments/<assignment>", methods=["DELETE"]
    )
    @blp.response(204)
    def unassign(user_id: str, assignment: str) -> ResponseReturnValue:
        """Take an account's Admin or Space Admin role away: it becomes a User."""
        user = _account(user_id, change=True)
        role = account_roles.of(user)
        if assignment != assignment_id(user, role):
            raise NotFound(f"no role assignment {assignment!r} for {user.name!r}")
        if role is account_roles.USER:
            raise BadRequest("every account holds a role: give another instead")
        account_roles.assign(
            user,
            account_roles.USER,
            actor=caller.principal().name,
            address=request.remote_addr or "",
        )
        return ""

    return blp
