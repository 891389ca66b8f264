"""Drives (spaces) in the libre-graph API: list, create, read, update, disable,
restore and purge.

Who sees a drive: its members (a disabled one only its Managers), admins, and
for project drives space admins; to anyone else it does not exist (404).
Creating project drives and changing quotas is for admins and space admins;
renaming, describing, disabling, restoring and purging also for the drive's
Managers. Personal drives are neither disabled nor purged here (they go with
their user), as in OpenCloud.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import request
from flask.typing import ResponseReturnValue

from app import acl, shares, spaces, users
from app.auth.principal import Principal
from app.errors import Forbidden, NotFound, PreconditionFailed
from app.instance import Grove
from app.models import Space
from graph import caller, drive_json, odata
from graph.api import Blueprint, GraphSchema
from graph.errors import NotSupported

TRASHED = "@libre.graph.hasTrashedItems"
_READ_ONLY = frozenset(
    {
        "id",
        "createdBy",
        "createdDateTime",
        "eTag",
        "lastModifiedBy",
        "lastModifiedDateTime",
        "webUrl",
        "items",
        "root",
        "owner",
        "parentReference",
        "special",
        "driveAlias",
        "@libre.graph.hasTrashedItems",
        "@libre.graph.contentType",
    }
)


def annotation(name: str, **metadata: Any) -> ma.fields.Function:
    """An output field named like ``@libre.graph.x``, copied when present (its
    dots would read as a path in marshmallow's ``attribute``)."""
    return ma.fields.Function(
        lambda found: found.get(name, ma.missing), data_key=name, metadata=metadata
    )


class QuotaInput(GraphSchema):
    NOT_SUPPORTED = frozenset({"deleted", "remaining", "state", "used"})

    total = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))


class DriveCreate(GraphSchema):
    NOT_SUPPORTED = _READ_ONLY

    name = ma.fields.String(required=True)
    description = ma.fields.String()
    driveType = ma.fields.String(validate=ma.validate.OneOf(["project"]))  # noqa: N815
    quota = ma.fields.Nested(QuotaInput)


class DriveUpdate(GraphSchema):
    NOT_SUPPORTED = _READ_ONLY | {"driveType"}

    name = ma.fields.String()
    description = ma.fields.String()
    quota = ma.fields.Nested(QuotaInput)


class QuotaSchema(ma.Schema):
    total = ma.fields.Integer()
    used = ma.fields.Integer()
    deleted = ma.fields.Integer()
    remaining = ma.fields.Integer()
    state = ma.fields.String()


class DriveSchema(ma.Schema):
    id = ma.fields.String()
    eTag = ma.fields.String()  # noqa: N815
    driveType = ma.fields.String()  # noqa: N815
    driveAlias = ma.fields.String()  # noqa: N815
    name = ma.fields.String()
    description = ma.fields.String()
    owner = ma.fields.Dict()
    quota = ma.fields.Nested(QuotaSchema)
    root = ma.fields.Dict()
    webUrl = ma.fields.String()  # noqa: N815
    createdDateTime = ma.fields.String()  # noqa: N815
    lastModifiedDateTime = ma.fields.String()  # noqa: N815
    hasTrashedItems = annotation(TRASHED, type="boolean")  # noqa: N815


class DriveCollection(ma.Schema):
    value = ma.fields.List(ma.fields.Nested(DriveSchema))


_FILTER = odata.Vocabulary(
    properties={
        "driveType": lambda d: d["driveType"],
        "id": lambda d: d["id"],
        "name": lambda d: d["name"],
        "driveAlias": lambda d: d["driveAlias"],
    },
    collections={},
)
_ORDER = {
    "name": lambda d: str(d["name"]).lower(),
    "lastModifiedDateTime": lambda d: d.get("lastModifiedDateTime", ""),
}
# $select narrows a drive to the properties it names (``id`` always stays);
# ``@libre.graph.hasTrashedItems`` is computed only when selected, and alone
# it adds to all properties, as the libre-graph document describes it.
_SELECT = (
    "id",
    "eTag",
    "driveType",
    "driveAlias",
    "name",
    "description",
    "owner",
    "quota",
    "root",
    "webUrl",
    "createdDateTime",
    "lastModifiedDateTime",
    TRASHED,
)
# The one expansion: the root's permissions (the members), always in v1beta1.
_EXPAND = ("root($expand=permissions)",)


def _shape(
    grove: Grove,
    space: Space | None,
    query: dict[str, Any],
    *,
    members: bool,
    built: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One drive as ``$select`` and ``$expand`` ask for it (``built``: its
    drive object without members, if the caller made it already; the share
    jail's, which has neither members nor trash, when ``space`` is None)."""
    if query.get("search"):
        raise NotSupported("$search is not supported on drives")
    select = odata.names(query.get("select"), _SELECT, "$select")
    expand = odata.names(query.get("expand"), _EXPAND, "$expand")
    if space is None and built is not None:
        found = dict(built)
    elif space is not None and (members or expand or built is None):
        found = drive_json.drive(grove, space, members=members or bool(expand))
    else:
        assert built is not None
        found = built
    if TRASHED in select:
        found[TRASHED] = space is not None and drive_json.has_trashed_items(space)
    narrow = select - {TRASHED}
    if narrow:
        found = {k: v for k, v in found.items() if k in narrow | {"id", TRASHED}}
    return found


def oversees(principal: Principal, space: Space) -> bool:
    """Admins oversee every drive, space admins every project drive: they see,
    rename, disable, restore and purge them and set their quotas (not their
    content, which only members reach)."""
    if principal.is_admin:
        return True
    return space.kind == "project" and spaces.may_create(users.get(principal.user_id))


def visible(principal: Principal, space: Space) -> bool:
    """Whether the caller may know of ``space`` (through the graph API)."""
    if oversees(principal, space):
        return True
    if space.disabled is not None:
        return acl.may_manage_space(principal, space)
    return acl.is_member(principal, space)


def find(principal: Principal, drive_id: str) -> Space:
    """The space of a drive id the caller may know of; NotFound otherwise."""
    space = spaces.by_drive_id(drive_id)
    if not visible(principal, space):
        raise NotFound(f"no drive {drive_id!r}")
    return space


def _manage(principal: Principal, space: Space) -> None:
    if not (acl.may_manage_space(principal, space) or oversees(principal, space)):
        raise Forbidden(f"only a Manager of {space.name!r} or an admin may do this")


def _flag(header: str) -> bool:
    return request.headers.get(header, "").strip().upper() in ("T", "TRUE")


def _check_if_match(grove: Grove, space: Space) -> None:
    """``If-Match`` on DELETE: the drive's eTag must still be the one given."""
    wanted = request.headers.get("If-Match")
    if wanted is None or wanted.strip() == "*":
        return
    current = drive_json.drive(grove, space).get("eTag")
    tags = {tag.strip() for tag in wanted.split(",")}
    if current not in tags:
        raise PreconditionFailed(
            f"drive {space.name!r} changed: its eTag is {current}, not {wanted!r}"
        )


def _collection(
    grove: Grove, found: list[Space], query: dict[str, Any], *, members: bool
) -> dict[str, Any]:
    """The drives in ``found`` and the caller's share jail, as the query asks."""
    drives: list[tuple[Space | None, dict[str, Any]]] = [
        (space, drive_json.drive(grove, space, members=False)) for space in found
    ]
    drives.append((None, drive_json.share_jail(grove, caller.principal().user_id)))
    keep = odata.compile_filter(query.get("filter"), _FILTER)
    if keep is not None:
        drives = [pair for pair in drives if keep(pair[1])]
    keys = {name: _by_json(key) for name, key in _ORDER.items()}
    drives = odata.order(drives, query.get("orderby"), keys)
    chosen = odata.page(drives, query.get("top"), query.get("skip"))
    return {
        "value": [
            _shape(grove, space, query, members=members, built=built)
            for space, built in chosen
        ]
    }


def _by_json(key: Callable[[dict[str, Any]], Any]) -> Callable[[Any], Any]:
    return lambda pair: key(pair[1])


def mine(principal: Principal) -> list[Space]:
    """The drives of the caller: personal, and project drives they are a member
    of (disabled ones only while they manage them)."""
    return [
        space
        for space in spaces.of_user(principal.user_id)
        if space.disabled is None or acl.may_manage_space(principal, space)
    ]


def create_blueprint(grove: Grove) -> Blueprint:
    blp = Blueprint("drives", __name__, description="Drives (spaces)")

    @blp.route("/v1.0/me/drives")
    @blp.arguments(odata.ListQuery, location="query")
    @blp.response(200, DriveCollection)
    def my_drives(query: dict[str, Any]) -> ResponseReturnValue:
        """Drives the caller is a member of."""
        return _collection(grove, mine(caller.principal()), query, members=False)

    @blp.route("/v1beta1/me/drives")
    @blp.arguments(odata.ListQuery, location="query")
    @blp.response(200, DriveCollection)
    def my_drives_beta(query: dict[str, Any]) -> ResponseReturnValue:
        """Drives the caller is a member of, with their members (unified roles)."""
        return _collection(grove, mine(caller.principal()), query, members=True)

    @blp.route("/v1.0/me/drive")
    @blp.response(200, DriveSchema)
    def my_drive() -> ResponseReturnValue:
        """The caller's personal drive."""
        principal = caller.principal()
        return drive_json.drive(
            grove, spaces.personal_space(users.get(principal.user_id))
        )

    def all_drives(query: dict[str, Any], *, members: bool) -> dict[str, Any]:
        principal = caller.principal()
        if principal.is_admin:
            found = spaces.listing()
        elif spaces.may_create(users.get(principal.user_id)):
            own = mine(principal)
            known = {space.id for space in own}
            projects = spaces.listing(kind="project")
            found = own + [space for space in projects if space.id not in known]
        else:
            found = mine(principal)
        return _collection(grove, found, query, members=members)

    @blp.route("/v1.0/drives", methods=["GET"])
    @blp.arguments(odata.ListQuery, location="query")
    @blp.response(200, DriveCollection)
    def list_drives(query: dict[str, Any]) -> ResponseReturnValue:
        """Every drive (admins); the caller's own drives (everyone else)."""
        return all_drives(query, members=False)

    @blp.route("/v1beta1/drives", methods=["GET"])
    @blp.arguments(odata.ListQuery, location="query")
    @blp.response(200, DriveCollection)
    def list_drives_beta(query: dict[str, Any]) -> ResponseReturnValue:
        """Every drive (admins) with members; the caller's own (everyone else)."""
        return all_drives(query, members=True)

    @blp.route("/v1.0/drives", methods=["POST"])
    @blp.arguments(DriveCreate)
    @blp.response(201, DriveSchema)
    def create_drive(body: dict[str, Any]) -> ResponseReturnValue:
        """Create a project drive (admins and space admins); its creator becomes
        its Manager."""
        principal = caller.principal(write=True)
        creator = users.get(principal.user_id)
        if not spaces.may_create(creator):
            raise Forbidden("only admins and space admins create project drives")
        space = spaces.create_project(
            grove.storage_dir,
            body["name"],
            creator=creator,
            description=body.get("description", ""),
            quota_total=body["quota"]["total"] if "quota" in body else None,
            address=request.remote_addr or "",
        )
        return drive_json.drive(grove, space, members=True)

    @blp.route("/v1.0/drives/<drive_id>", methods=["GET"])
    @blp.arguments(odata.ItemQuery, location="query")
    @blp.response(200, DriveSchema)
    def get_drive(query: dict[str, Any], drive_id: str) -> ResponseReturnValue:
        """One drive (also the caller's share jail)."""
        principal = caller.principal()
        if drive_id in (shares.JAIL_DRIVE_ID, shares.JAIL_ID):
            jail = drive_json.share_jail(grove, principal.user_id)
            return _shape(grove, None, query, members=False, built=jail)
        return _shape(grove, find(principal, drive_id), query, members=False)

    @blp.route("/v1.0/drives/<drive_id>", methods=["PATCH"])
    @blp.arguments(DriveUpdate)
    @blp.response(200, DriveSchema)
    def update_drive(body: dict[str, Any], drive_id: str) -> ResponseReturnValue:
        """Rename, describe or set the quota of a drive; ``Restore: T`` enables a
        disabled one."""
        principal = caller.principal(write=True)
        space = find(principal, drive_id)
        actor, address = principal.name, request.remote_addr or ""
        if "quota" in body and not oversees(principal, space):
            raise Forbidden("only admins and space admins change quotas")
        _manage(principal, space)
        if _flag("Restore"):
            spaces.restore(space, actor=actor, address=address)
        elif space.disabled is not None:
            raise NotFound(f"drive {drive_id!r} is disabled (restore it first)")
        changes: dict[str, Any] = {
            "name": body.get("name"),
            "description": body.get("description"),
        }
        if "quota" in body:
            changes["quota_total"] = body["quota"]["total"]
        spaces.update(space, **changes, actor=actor, address=address)
        return drive_json.drive(grove, space)

    @blp.route("/v1.0/drives/<drive_id>", methods=["DELETE"])
    @blp.response(204)
    def delete_drive(drive_id: str) -> ResponseReturnValue:
        """Disable a drive; ``Purge: T`` deletes a disabled one for good."""
        principal = caller.principal(write=True)
        space = find(principal, drive_id)
        _manage(principal, space)
        _check_if_match(grove, space)
        actor, address = principal.name, request.remote_addr or ""
        if _flag("Purge"):
            spaces.purge(
                grove.storage_dir,
                grove.settings.state_dir,
                space,
                actor=actor,
                address=address,
            )
        else:
            spaces.disable(space, actor=actor, address=address)
        return ""

    return blp
