"""``/v1.0/me``: the signed-in user, their own profile and password."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request

from app import users
from app.errors import Forbidden
from app.instance import Grove
from graph.api import Blueprint, GraphSchema, QuerySchema
from graph.caller import principal
from graph.users import (
    UserOut,
    UserUpdate,
    apply_update,
    expand_names,
    user_json,
    with_drive,
)

# What a user may change about themselves; the rest of userUpdate is for admins.
OWN_FIELDS = frozenset({"preferredLanguage"})


class MeQuery(QuerySchema):
    expand = ma.fields.String(data_key="$expand")


class PasswordChange(GraphSchema):
    currentPassword = ma.fields.String(required=True)
    newPassword = ma.fields.String(required=True)


def create_blueprint(grove: Grove) -> Blueprint:
    blueprint = Blueprint("me", __name__, description="The signed-in user")

    @blueprint.route("/v1.0/me", methods=["GET"])
    @blueprint.arguments(MeQuery, location="query", as_kwargs=True)
    @blueprint.response(200, UserOut)
    def me(**query: Any) -> Any:
        """The signed-in user; ``$expand=memberOf`` adds their groups."""
        caller = principal()
        expand = expand_names(query.get("expand"))
        user = users.get(caller.user_id)
        return with_drive(grove, user_json(user, expand=expand), user, expand)

    @blueprint.route("/v1.0/me", methods=["PATCH"])
    @blueprint.arguments(UserUpdate)
    @blueprint.response(200, UserOut)
    def update(body: dict[str, Any]) -> Any:
        """Change one's own preferences (an admin changes the rest at /users)."""
        caller = principal(write=True)
        others = set(body) - OWN_FIELDS
        if others and not caller.is_admin:
            raise Forbidden(f"only an admin may change {', '.join(sorted(others))}")
        return user_json(apply_update(users.get(caller.user_id), body, caller))

    @blueprint.route("/v1.0/me/changePassword", methods=["POST"])
    @blueprint.arguments(PasswordChange)
    @blueprint.response(204)
    def change_password(body: dict[str, Any]) -> None:
        """Change one's own password: other sessions and cached sign-ins end."""
        caller = principal(write=True)
        users.change_password(
            users.get(caller.user_id),
            body["currentPassword"],
            body["newPassword"],
            actor=caller.name,
            address=str(request.environ.get("REMOTE_ADDR", "")),
        )

    return blueprint
