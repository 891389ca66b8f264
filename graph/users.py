"""``/v1.0/users``: the directory of accounts (admins change it, everyone may
look people up to share with them)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import marshmallow as ma
from flask import request

from app import groups, spaces, users
from app.auth.principal import Principal
from app.errors import BadRequest, Forbidden
from app.instance import Grove
from app.models import Group, User
from graph import app_roles, drive_json, odata
from graph.api import Blueprint, GraphSchema, QuerySchema
from graph.app_roles import AssignmentSchema
from graph.caller import principal
from graph.drives import DriveSchema

# Fields of the libre-graph user that Grove does not keep (docs/api.md).
UNSUPPORTED_USER_FIELDS = frozenset({"identities", "surname", "givenName"})
# Read-only in the libre-graph document: a client may not set them.
READ_ONLY_USER_FIELDS = frozenset(
    {
        "id",
        "appRoleAssignments",
        "drives",
        "drive",
        "memberOf",
        "userType",
        "signInActivity",
    }
)
USER_SELECT = ("id", "displayName", "mail", "memberOf", "onPremisesSamAccountName")
USER_EXPAND = ("memberOf", "appRoleAssignments", "drive")
# $select and $expand names of the libre-graph document Grove does not answer.
UNSUPPORTED_SELECT = frozenset({"surname", "drive", "drives"})
UNSUPPORTED_EXPAND = frozenset({"drives"})
# Always answered: the libre-graph document requires them in every user.
USER_REQUIRED = ("id", "displayName", "onPremisesSamAccountName")
USER_ORDER = {
    "displayName": lambda user: user.display_name.lower(),
    "mail": lambda user: user.mail.lower(),
    "onPremisesSamAccountName": lambda user: user.name.lower(),
}


class GroupRef(ma.Schema):
    """A group as it appears inside a user (``memberOf``)."""

    id = ma.fields.String()
    displayName = ma.fields.String()
    description = ma.fields.String()


class UserOut(ma.Schema):
    id = ma.fields.String()
    displayName = ma.fields.String(required=True)
    onPremisesSamAccountName = ma.fields.String(required=True)
    mail = ma.fields.String()
    accountEnabled = ma.fields.Boolean()
    preferredLanguage = ma.fields.String()
    userType = ma.fields.String()
    memberOf = ma.fields.List(ma.fields.Nested(GroupRef))
    appRoleAssignments = ma.fields.List(ma.fields.Nested(AssignmentSchema))
    drive = ma.fields.Nested(DriveSchema)


class UserList(ma.Schema):
    value = ma.fields.List(ma.fields.Nested(UserOut), required=True)


class PasswordProfile(GraphSchema):
    NOT_SUPPORTED = frozenset({"forceChangePasswordNextSignIn"})

    password = ma.fields.String(required=True)


class UserUpdate(GraphSchema):
    NOT_SUPPORTED = UNSUPPORTED_USER_FIELDS | READ_ONLY_USER_FIELDS

    displayName = ma.fields.String()
    onPremisesSamAccountName = ma.fields.String()
    mail = ma.fields.String()
    accountEnabled = ma.fields.Boolean()
    preferredLanguage = ma.fields.String()
    passwordProfile = ma.fields.Nested(PasswordProfile)


class UserCreate(UserUpdate):
    displayName = ma.fields.String(required=True)
    onPremisesSamAccountName = ma.fields.String(required=True)
    passwordProfile = ma.fields.Nested(PasswordProfile, required=True)


def group_ref(group: Group) -> dict[str, str]:
    return {"id": group.id, "displayName": group.name, "description": group.description}


def user_json(
    user: User, *, expand: Collection[str] = (), select: Collection[str] = ()
) -> dict[str, Any]:
    """A user as the libre-graph document has it; ``select`` narrows it down to
    the named fields (and the ones the document requires)."""
    found: dict[str, Any] = {
        "id": user.id,
        "displayName": user.display_name,
        "onPremisesSamAccountName": user.name,
        "mail": user.mail,
        "accountEnabled": user.account_enabled,
        "userType": "Member",
    }
    if user.preferred_language:
        found["preferredLanguage"] = user.preferred_language
    if "memberOf" in expand or "memberOf" in select:
        found["memberOf"] = [group_ref(group) for group in groups.of_user(user.id)]
    if "appRoleAssignments" in expand:
        found["appRoleAssignments"] = [app_roles.assignment(user)]
    if select:
        keep = set(select) | set(expand) | set(USER_REQUIRED)
        found = {k: v for k, v in found.items() if k in keep}
    return found


def with_drive(
    grove: Grove, found: dict[str, Any], user: User, expand: Collection[str]
) -> dict[str, Any]:
    """``found`` with the user's personal drive when ``$expand`` asks for it."""
    if "drive" in expand:
        found["drive"] = drive_json.drive(grove, spaces.personal_space(user))
    return found


def _member_of(user: User) -> list[dict[str, str]]:
    return [
        {"id": group.id, "displayName": group.name} for group in groups.of_user(user.id)
    ]


USER_FILTER = odata.Vocabulary(
    properties={
        "id": lambda user: user.id,
        "displayName": lambda user: user.display_name,
        "mail": lambda user: user.mail,
        "onPremisesSamAccountName": lambda user: user.name,
        "accountEnabled": lambda user: user.account_enabled,
    },
    collections={
        "memberOf": _member_of,
        "appRoleAssignments": lambda user: [app_roles.assignment(user)],
    },
    unsupported=frozenset({"userType", "surname", "givenName"}),
)
# Others than admins may find people by their names, not by group or role.
ADMIN_FILTERS = ("memberOf", "appRoleAssignments")


def _matches(user: User, term: str) -> bool:
    return any(
        term in value.lower() for value in (user.name, user.display_name, user.mail)
    )


def _address() -> str:
    return str(request.environ.get("REMOTE_ADDR", ""))


def _require_admin(caller: Principal) -> None:
    if not caller.is_admin:
        raise Forbidden("only an admin may manage users")


def apply_update(user: User, body: dict[str, Any], caller: Principal) -> User:
    """Change ``user`` as a userUpdate body says (the caller is allowed to)."""
    if body.get("accountEnabled") is False and user.id == caller.user_id:
        raise BadRequest("an admin cannot disable their own account")
    profile = body.get("passwordProfile")
    if profile is not None:
        # Checked first: a refused body changes nothing.
        users.check_password(profile["password"])
    user = users.update(
        user,
        name=body.get("onPremisesSamAccountName"),
        display_name=body.get("displayName"),
        mail=body.get("mail"),
        account_enabled=body.get("accountEnabled"),
        preferred_language=body.get("preferredLanguage"),
        actor=caller.name,
        address=_address(),
    )
    if profile is not None:
        users.set_password(
            user.name, profile["password"], actor=caller.name, address=_address()
        )
    return users.get(user.id)


class DeleteQuery(QuerySchema):
    """Grove's own option: remove the user's files now instead of keeping them
    in the trash for the retention period."""

    purge = ma.fields.Boolean(load_default=False)


def select_names(value: str | None) -> set[str]:
    return odata.names(value, USER_SELECT, "$select", UNSUPPORTED_SELECT)


def expand_names(value: str | None) -> set[str]:
    return odata.names(value, USER_EXPAND, "$expand", UNSUPPORTED_EXPAND)


def create_blueprint(grove: Grove) -> Blueprint:
    blueprint = Blueprint("users", __name__, description="Users (libre-graph)")

    @blueprint.route("/v1.0/users", methods=["GET"])
    @blueprint.arguments(odata.ListQuery, location="query", as_kwargs=True)
    @blueprint.response(200, UserList)
    def listing(**query: Any) -> Any:
        """List users; others than admins must search (``$search``)."""
        caller = principal()
        term = odata.search_term(query.get("search"))
        if not caller.is_admin and not term:
            raise Forbidden("search for a user with $search")
        select = select_names(query.get("select"))
        expand = expand_names(query.get("expand"))
        text = query.get("filter") or ""
        if not caller.is_admin:
            select, expand = (select or set(USER_SELECT)) - {"memberOf"}, set()
            if any(name in text for name in ADMIN_FILTERS):
                raise Forbidden("only an admin may filter users by group or role")
        keep = odata.compile_filter(text, USER_FILTER)
        found = [
            user
            for user in users.listing()
            if (not term or _matches(user, term)) and (keep is None or keep(user))
        ]
        found = odata.order(found, query.get("orderby"), USER_ORDER)
        found = odata.page(found, query.get("top"), query.get("skip"))
        return {
            "value": [
                with_drive(grove, user_json(u, expand=expand, select=select), u, expand)
                for u in found
            ]
        }

    @blueprint.route("/v1.0/users", methods=["POST"])
    @blueprint.arguments(UserCreate)
    @blueprint.response(201, UserOut)
    def create(body: dict[str, Any]) -> Any:
        """Create a user with a personal space (admins)."""
        caller = principal(write=True)
        _require_admin(caller)
        user = users.add(
            grove.storage_dir,
            body["onPremisesSamAccountName"],
            body["passwordProfile"]["password"],
            display_name=body["displayName"],
            mail=body.get("mail", ""),
            account_enabled=body.get("accountEnabled", True),
            preferred_language=body.get("preferredLanguage", ""),
            actor=caller.name,
            address=_address(),
        )
        return user_json(user)

    @blueprint.route("/v1.0/users/<string:user_id>", methods=["GET"])
    @blueprint.arguments(odata.ItemQuery, location="query", as_kwargs=True)
    @blueprint.response(200, UserOut)
    def get(user_id: str, **query: Any) -> Any:
        """One user, by id or login name."""
        caller = principal()
        user = users.get(user_id)
        select = select_names(query.get("select"))
        expand = expand_names(query.get("expand"))
        if not caller.is_admin and caller.user_id != user.id:
            select = (select or set(USER_SELECT)) - {"memberOf"}
            expand = set()
        found = user_json(user, expand=expand, select=select)
        return with_drive(grove, found, user, expand)

    @blueprint.route("/v1.0/users/<string:user_id>", methods=["PATCH"])
    @blueprint.arguments(UserUpdate)
    @blueprint.response(200, UserOut)
    def update(body: dict[str, Any], user_id: str) -> Any:
        """Change a user (admins): a new login name keeps id, space and shares."""
        caller = principal(write=True)
        _require_admin(caller)
        return user_json(apply_update(users.get(user_id), body, caller))

    @blueprint.route("/v1.0/users/<string:user_id>", methods=["DELETE"])
    @blueprint.arguments(DeleteQuery, location="query", as_kwargs=True)
    @blueprint.response(204)
    def delete(user_id: str, purge: bool) -> None:
        """Delete a user: sessions, tokens and shares end; the personal space
        waits in the trash for the retention period (``?purge=true``: removed
        at once)."""
        caller = principal(write=True)
        _require_admin(caller)
        user = users.get(user_id)
        if user.id == caller.user_id:
            raise BadRequest("an admin cannot delete their own account")
        users.delete(
            grove.storage_dir,
            grove.settings.state_dir,
            user.name,
            purge=purge,
            keep_days=grove.settings.trash_retention_days,
            actor=caller.name,
            address=_address(),
        )
        return None

    return blueprint
