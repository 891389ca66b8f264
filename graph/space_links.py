"""Public links on a project drive's root: made with ``root/createLink``,
listed, changed and removed with the members through ``root/permissions``,
and given a password with ``root/permissions/{id}/setPassword``.

A root link opens the whole drive at ``/dav/public-files/<token>/``. Who may
make, change or remove one is app.links' answer from the caller's
permissions on the root (a Manager's, an admin's), as for any item.
"""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from app import acl, links, shares
from app.auth.principal import Principal
from app.errors import BadRequest, Forbidden, NotFound
from app.instance import Grove
from app.models import Grant, Space
from app.perms import Perm
from app.storage.tree import Item
from graph import caller, share_json
from graph.api import Blueprint
from graph.drives import find
from graph.errors import NotSupported
from graph.sharing import CreateLink, Password, PermissionSchema

_ROOT = "/v1beta1/drives/<drive_id>/root"


def on_root(space: Space) -> list[Grant]:
    """The links on the drive's root, oldest first."""
    query = Grant.select().where(
        (Grant.space == space.id)
        & (Grant.node_id == space.id)
        & (Grant.grantee_type == "link")
    )
    return list(query.order_by(Grant.created))


def root_of(grove: Grove, principal: Principal, space: Space) -> tuple[Item, Perm]:
    """The drive's root and the caller's permissions on it."""
    if space.kind != "project":
        raise BadRequest("links on a drive's root are for project drives")
    root = grove.tree(space).item([])
    perms = acl.root_content_permissions(principal, space)
    if root is None or Perm.SHARE not in perms:
        raise Forbidden(f"only a Manager of {space.name!r} may share it by link")
    return root, perms


def view(grant: Grant, perms: Perm) -> dict[str, Any]:
    """A root link as a ``permission``; its URL only for who may share."""
    return share_json.permission(grant, secrets=Perm.SHARE in perms)


def _expiry(body: dict[str, Any]) -> float | None:
    moment = body.get("expirationDateTime")
    return None if moment is None else float(moment.timestamp())


def _no_quick_link(body: dict[str, Any]) -> None:
    if body.get("quick_link"):
        raise NotSupported("'@libre.graph.quickLink' is not supported by Grove")


def update(
    grove: Grove, principal: Principal, space: Space, grant: Grant, body: Any
) -> dict[str, Any]:
    """Change a root link's type, display name or expiration."""
    if "roles" in body:
        raise BadRequest("a link has a type, not roles")
    link = body.get("link", {})
    _no_quick_link(link)
    root, perms = root_of(grove, principal, space)
    expires = _expiry(body) if "expirationDateTime" in body else shares.UNSET
    links.update(
        principal,
        grant,
        root,
        perms,
        link_type=link.get("type"),
        expires=expires,
        display_name=link.get("display_name"),
    )
    return view(grant, perms)


def remove(grove: Grove, principal: Principal, space: Space, grant: Grant) -> None:
    """Delete a root link."""
    _, perms = root_of(grove, principal, space)
    shares.remove(principal, grant, perms)


def create_blueprint(grove: Grove) -> Blueprint:
    blp = Blueprint("space_links", __name__, description="Links on drive roots")

    @blp.route(_ROOT + "/createLink", methods=["POST"])
    @blp.arguments(CreateLink)
    @blp.response(200, PermissionSchema)
    def create_link(body: dict[str, Any], drive_id: str) -> ResponseReturnValue:
        """Share a whole project drive by a public link."""
        _no_quick_link(body)
        principal = caller.principal(write=True)
        root, perms = root_of(grove, principal, find(principal, drive_id))
        grant = links.create(
            principal,
            root,
            perms,
            link_type=body["type"],
            password=body.get("password"),
            expires=_expiry(body),
            display_name=body.get("displayName", ""),
        )
        return view(grant, perms)

    @blp.route(_ROOT + "/permissions/<perm_id>/setPassword", methods=["POST"])
    @blp.arguments(Password)
    @blp.response(200, PermissionSchema)
    def set_password(
        body: dict[str, Any], drive_id: str, perm_id: str
    ) -> ResponseReturnValue:
        """Set or (with "") remove a root link's password."""
        principal = caller.principal(write=True)
        space = find(principal, drive_id)
        _, perms = root_of(grove, principal, space)
        grant = next((g for g in on_root(space) if g.id == perm_id), None)
        if grant is None:
            raise NotFound(f"no link {perm_id!r} on drive {space.name!r}")
        links.set_password(principal, grant, perms, body["password"])
        return view(grant, perms)

    return blp
