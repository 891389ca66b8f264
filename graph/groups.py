"""``/v1.0/groups``: groups and their members (admins change them, everyone
may look groups up to share with them)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import marshmallow as ma
from flask import request

from app import groups, users
from app.auth.principal import Principal
from app.errors import BadRequest, Forbidden
from app.instance import Grove
from app.models import Group, User
from graph import odata
from graph.api import Blueprint, GraphSchema
from graph.caller import principal
from graph.users import UserList, UserOut, user_json

GROUP_SELECT = ("id", "description", "displayName", "members")
UNSUPPORTED_SELECT = frozenset({"mail"})
GROUP_REQUIRED = ("id", "displayName")
GROUP_ORDER = {"displayName": lambda group: group.name.lower()}
MAX_BIND = 20  # members@odata.bind, as the libre-graph document bounds it


class GroupOut(ma.Schema):
    id = ma.fields.String()
    displayName = ma.fields.String()
    description = ma.fields.String()
    members = ma.fields.List(ma.fields.Nested(UserOut))


class GroupList(ma.Schema):
    value = ma.fields.List(ma.fields.Nested(GroupOut), required=True)


class GroupUpdate(GraphSchema):
    NOT_SUPPORTED = frozenset({"groupTypes", "members", "id"})

    displayName = ma.fields.String()
    description = ma.fields.String()
    membersBind = ma.fields.List(
        ma.fields.String(),
        data_key="members@odata.bind",
        validate=ma.validate.Length(min=1, max=MAX_BIND),
    )


class GroupCreate(GroupUpdate):
    displayName = ma.fields.String(required=True)


class MemberReference(GraphSchema):
    odataId = ma.fields.String(data_key="@odata.id", required=True)


def group_json(
    group: Group, *, expand: Collection[str] = (), select: Collection[str] = ()
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": group.id,
        "displayName": group.name,
        "description": group.description,
    }
    if "members" in expand or "members" in select:
        found["members"] = [user_json(user) for user in groups.members(group)]
    if select:
        found = {k: v for k, v in found.items() if k in select or k in GROUP_REQUIRED}
    return found


def user_of_reference(reference: str) -> User:
    """The user an ``@odata.id`` names: ``…/users/<id>`` (or a bare id)."""
    head, found, user_id = reference.rstrip("/").rpartition("/users/")
    if not found and "/" in reference:
        raise BadRequest(f"not a reference to a user: {reference!r}")
    return users.get(user_id if found else reference)


def _address() -> str:
    return str(request.environ.get("REMOTE_ADDR", ""))


def _admin() -> Principal:
    caller = principal(write=True)
    if not caller.is_admin:
        raise Forbidden("only an admin may manage groups")
    return caller


def _bind(group: Group, references: list[str], caller: Principal) -> None:
    for reference in references:
        groups.add_member(
            group, user_of_reference(reference), actor=caller.name, address=_address()
        )


def _matches(group: Group, term: str) -> bool:
    return term in group.name.lower() or term in group.description.lower()


def create_blueprint(grove: Grove) -> Blueprint:
    blueprint = Blueprint("groups", __name__, description="Groups (libre-graph)")

    @blueprint.route("/v1.0/groups", methods=["GET"])
    @blueprint.arguments(odata.ListQuery, location="query", as_kwargs=True)
    @blueprint.response(200, GroupList)
    def listing(**query: Any) -> Any:
        """List groups; others than admins must search (``$search``)."""
        caller = principal()
        term = odata.search_term(query.get("search"))
        if not caller.is_admin and not term:
            raise Forbidden("search for a group with $search")
        if query.get("filter"):
            raise BadRequest("$filter is not supported on groups: use $search")
        select = odata.names(
            query.get("select"), GROUP_SELECT, "$select", UNSUPPORTED_SELECT
        )
        expand = odata.names(query.get("expand"), ("members",), "$expand")
        found = [g for g in groups.listing() if not term or _matches(g, term)]
        found = odata.order(found, query.get("orderby"), GROUP_ORDER)
        found = odata.page(found, query.get("top"), query.get("skip"))
        if not caller.is_admin:
            expand, select = set(), set(select) - {"members"}
        return {"value": [group_json(g, expand=expand, select=select) for g in found]}

    @blueprint.route("/v1.0/groups", methods=["POST"])
    @blueprint.arguments(GroupCreate)
    @blueprint.response(201, GroupOut)
    def create(body: dict[str, Any]) -> Any:
        """Create a group (admins), with members from ``members@odata.bind``."""
        caller = _admin()
        targets = [user_of_reference(r) for r in body.get("membersBind", [])]
        group = groups.create(
            body["displayName"],
            description=body.get("description", ""),
            actor=caller.name,
            address=_address(),
        )
        for user in {user.id: user for user in targets}.values():
            groups.add_member(group, user, actor=caller.name, address=_address())
        return group_json(group)

    @blueprint.route("/v1.0/groups/<string:group_id>", methods=["GET"])
    @blueprint.arguments(odata.ItemQuery, location="query", as_kwargs=True)
    @blueprint.response(200, GroupOut)
    def get(group_id: str, **query: Any) -> Any:
        caller = principal()
        group = groups.get(group_id)
        select = odata.names(
            query.get("select"), GROUP_SELECT, "$select", UNSUPPORTED_SELECT
        )
        expand = odata.names(query.get("expand"), ("members",), "$expand")
        if not caller.is_admin:
            expand, select = set(), set(select) - {"members"}
        return group_json(group, expand=expand, select=select)

    @blueprint.route("/v1.0/groups/<string:group_id>", methods=["PATCH"])
    @blueprint.arguments(GroupUpdate)
    @blueprint.response(204)
    def update(body: dict[str, Any], group_id: str) -> None:
        """Rename or describe a group, or add members (``members@odata.bind``)."""
        caller = _admin()
        group = groups.get(group_id)
        targets = [user_of_reference(r) for r in body.get("membersBind", [])]
        group = groups.update(
            group,
            name=body.get("displayName"),
            description=body.get("description"),
            actor=caller.name,
            address=_address(),
        )
        present = {user.id for user in groups.members(group)}
        for user in targets:
            if user.id not in present:
                groups.add_member(group, user, actor=caller.name, address=_address())
                present.add(user.id)

    @blueprint.route("/v1.0/groups/<string:group_id>", methods=["DELETE"])
    @blueprint.response(204)
    def delete(group_id: str) -> None:
        """Delete a group; the shares and memberships granted to it end."""
        caller = _admin()
        groups.delete(groups.get(group_id), actor=caller.name, address=_address())

    @blueprint.route("/v1.0/groups/<string:group_id>/members", methods=["GET"])
    @blueprint.response(200, UserList)
    def members(group_id: str) -> Any:
        caller = principal()
        if not caller.is_admin:
            raise Forbidden("only an admin may list a group's members")
        return {"value": [user_json(u) for u in groups.members(groups.get(group_id))]}

    @blueprint.route("/v1.0/groups/<string:group_id>/members/$ref", methods=["POST"])
    @blueprint.arguments(MemberReference)
    @blueprint.response(204)
    def add_member(body: dict[str, Any], group_id: str) -> None:
        """Add a user: ``{"@odata.id": "…/users/<id>"}``."""
        caller = _admin()
        group = groups.get(group_id)
        user = user_of_reference(body["odataId"])
        groups.add_member(group, user, actor=caller.name, address=_address())

    @blueprint.route(
        "/v1.0/groups/<string:group_id>/members/<string:user_id>/$ref",
        methods=["DELETE"],
    )
    @blueprint.response(204)
    def remove_member(group_id: str, user_id: str) -> None:
        caller = _admin()
        groups.remove_member(
            groups.get(group_id),
            users.get(user_id),
            actor=caller.name,
            address=_address(),
        )

    return blueprint
