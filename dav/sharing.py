"""Shares and public links as WebDAV sees them.

Which share or link a URL path is reached through (the share jail at
``/dav/spaces/<jail-id>/<name>/…`` and ``…/files/<user>/Shares/<name>/…``,
public links at ``/dav/public-files/<token>/…``), and the jail's virtual
root folder that lists the caller's shares by mount name. What a caller may
do there is still app.acl's decision, asked with the share's grant.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import Any

from wsgidav import util
from wsgidav.dav_error import HTTP_FORBIDDEN, HTTP_NOT_FOUND, DAVError
from wsgidav.dav_provider import DAVCollection

from app import acl, errors, forwarded, reach, shares, spaces, users
from app.auth.principal import Principal
from app.models import Grant, Space
from app.storage.paths import split_path
from app.storage.tree import Item
from dav import properties
from dav.errors import translated
from dav.resources import FolderResource

NOT_SHARED: Any = object()  # resolve(): a path of the layout's own kind
JAIL_RESOURCE_ID = f"{shares.JAIL_DRIVE_ID}!{shares.JAIL_ID}"


@dataclasses.dataclass
class Location:
    """A path in a real space, and the share or link it is reached through."""

    space: Space
    parts: list[str]
    grant: Grant | None = None
    mount: bool = False  # the shared item itself (a jail mount or a link root)


@dataclasses.dataclass
class JailRoot:
    mounts: list[shares.Mount]


def resolve(provider: Any, path: str, environ: dict[str, Any]) -> Any:
    """A Location or JailRoot for a jail or link path, None for one that leads
    nowhere, NOT_SHARED for any other path."""
    layout = provider.layout
    if layout == "public":
        with translated():
            return _public(split_path(path), environ)
    principal: Principal | None = environ.get("grove.principal")
    if principal is None or not principal.user_id:
        return NOT_SHARED
    with translated():
        parts = split_path(path)
    if layout == "spaces":
        if parts and reach.jail_grant_id(parts[0]):
            # A received share as a space of its own (OpenCloud Web's URLs).
            return _by_grant(str(reach.jail_grant_id(parts[0])), parts[1:], environ)
        if not parts or parts[0] not in (shares.JAIL_DRIVE_ID, shares.JAIL_ID):
            return NOT_SHARED
        return _jail(parts[1:], environ, principal)
    if layout == "files":
        if len(parts) < 2 or parts[1] != shares.JAIL_FOLDER:
            return NOT_SHARED
        try:
            if users.get(parts[0]).id != principal.user_id:
                return NOT_SHARED
        except errors.NotFound:
            return NOT_SHARED
        rest = parts[2:]
    elif layout == "home" and parts and parts[0] == shares.JAIL_FOLDER:
        rest = parts[1:]
    else:
        return NOT_SHARED
    if _real_shares_folder(provider, principal, environ):
        # A folder of that name in the personal space keeps its name and
        # content; the jail is then reached through its own space URL.
        return NOT_SHARED
    return _jail(rest, environ, principal)


def _real_shares_folder(
    provider: Any, principal: Principal, environ: dict[str, Any]
) -> bool:
    found = environ.get("grove.real_shares")
    if found is None:
        try:
            space = spaces.personal_space(users.get(principal.user_id))
        except errors.NotFound:
            return False
        root = spaces.root_path(provider.grove.storage_dir, space)
        found = os.path.lexists(root / shares.JAIL_FOLDER)
        environ["grove.real_shares"] = found
    return bool(found)


def _mounts(environ: dict[str, Any], user_id: str) -> list[shares.Mount]:
    """The shares the user syncs: one they stopped syncing leaves the jail."""
    # A MOVE resolves four paths: the jail is read once per request.
    found: list[shares.Mount] | None = environ.get("grove.mounts")
    if found is None:
        synced = [m for m in shares.mounts(user_id) if m.state.synchronize]
        found = environ["grove.mounts"] = synced
    return found


def _by_grant(
    grant_id: str, rest: list[str], environ: dict[str, Any]
) -> Location | None:
    for mount in _mounts(environ, environ["grove.principal"].user_id):
        if str(mount.grant.id) == grant_id:
            return Location(mount.space, mount.parts + rest, mount.grant, not rest)
    return None


def _jail(
    rest: list[str], environ: dict[str, Any], principal: Principal
) -> JailRoot | Location | None:
    mounts = _mounts(environ, principal.user_id)
    if not rest:
        return JailRoot(mounts)
    for mount in mounts:
        if mount.name == rest[0]:
            return Location(
                mount.space, mount.parts + rest[1:], mount.grant, len(rest) == 1
            )
    return None


def _public(parts: list[str], environ: dict[str, Any]) -> Location | None:
    grant: Grant | None = environ.get("grove.link")
    if grant is None or not parts or parts[0] != grant.link_token:
        return None
    where = shares.locate(str(grant.node_id))
    if where is None:
        return None
    return Location(where[0], where[1] + parts[1:], grant, len(parts) == 1)


def path_for(
    provider: Any, environ: dict[str, Any] | None, space_id: str, rest: str
) -> str | None:
    """The path, in this request's share or link, of ``/<space_id>/<rest>``
    (None: the request reaches it no other way than the layout's own)."""
    if environ is None:
        return None
    parts = [part for part in rest.split("/") if part]
    grant: Grant | None = environ.get("grove.link")
    if provider.layout == "public" and grant is not None:
        where = shares.locate(str(grant.node_id))
        if where and str(where[0].id) == space_id and _under(parts, where[1]):
            return "/" + "/".join([str(grant.link_token), *parts[len(where[1]) :]])
        return None
    mounts: list[shares.Mount] | None = environ.get("grove.mounts")
    principal: Principal | None = environ.get("grove.principal")
    if not mounts or principal is None:
        return None
    for mount in mounts:
        if str(mount.space.id) == space_id and _under(parts, mount.parts):
            inside = [mount.name, *parts[len(mount.parts) :]]
            if provider.layout == "spaces":
                base = [shares.JAIL_DRIVE_ID]
            elif provider.layout == "files":
                base = [principal.name, shares.JAIL_FOLDER]
            else:
                base = [shares.JAIL_FOLDER]
            return "/" + "/".join(base + inside)
    return None


def _under(parts: list[str], root: list[str]) -> bool:
    return parts[: len(root)] == root


def check_download(
    environ: dict[str, Any], path: str, item: Item, perms: acl.Perm
) -> None:
    """GET and HEAD need READ: secure view and file drops list, never download."""
    if environ.get("grove.download") == path and not item.is_dir:
        if acl.Perm.READ not in perms:
            raise DAVError(HTTP_FORBIDDEN, "downloads are not permitted here")


def real_parent(provider: Any, res: Any) -> FolderResource | None:
    """The real folder of a shared file reached as a mount, for committing a PUT.

    It carries no permissions of its own: the PUT is checked on the file.
    """
    with translated():
        folder = res.item.tree.item(res.item.parts[:-1])
    if folder is None:
        return None
    parent_path = util.get_uri_parent(res.path)
    resource = FolderResource(parent_path, res.environ, folder, acl.Perm.NONE)
    resource.provider = provider
    resource.grant = res.grant
    return resource


class JailFolder(DAVCollection):
    """The caller's share jail: one member per share received, by mount name."""

    def __init__(
        self, path: str, environ: dict[str, Any], provider: Any, root: JailRoot
    ) -> None:
        super().__init__(path, environ)
        self.provider = provider
        self.mounts = root.mounts
        self._members: list[Any] | None = None

    def get_member_names(self) -> list[str]:
        return [mount.name for mount in self.mounts]

    def get_member(self, name: str) -> Any:
        return self.provider.get_resource_inst(
            self.path.rstrip("/") + "/" + name, self.environ
        )

    def get_member_list(self) -> list[Any]:
        if self._members is None:
            found = (self.get_member(name) for name in self.get_member_names())
            self._members = [member for member in found if member is not None]
        return self._members

    def get_href(self) -> str:
        href: str = super().get_href()
        return self.environ.get(forwarded.PREFIX_KEY, "") + href

    def get_ref_url(self) -> str:
        return f"/{shares.JAIL_ID}/"

    def get_display_name(self) -> str:
        return shares.JAIL_FOLDER

    def support_etag(self) -> bool:
        return True

    def get_etag(self) -> str:
        # Changes when a share arrives, leaves, is renamed or changes below.
        digest = hashlib.sha1(usedforsecurity=False)
        for member in self.get_member_list():
            digest.update(f"{member.grant.id}\0{member.path}\0".encode())
            digest.update(member.get_etag().encode())
        return digest.hexdigest()

    def get_last_modified(self) -> float | None:
        return None

    def get_creation_date(self) -> float | None:
        return None

    def get_property_value(self, name: str) -> Any:
        oc = properties.OC
        fixed = {
            f"{oc}id": JAIL_RESOURCE_ID,
            f"{oc}fileid": JAIL_RESOURCE_ID,
            f"{oc}spaceid": shares.JAIL_DRIVE_ID,
            f"{oc}name": shares.JAIL_FOLDER,
            f"{oc}permissions": "",
            f"{oc}size": "0",
        }
        if name in fixed:
            return fixed[name]
        if name.startswith("{DAV:}"):
            return super().get_property_value(name)
        raise DAVError(HTTP_NOT_FOUND)

    def set_property_value(
        self, name: str, value: Any, *, dry_run: bool = False
    ) -> bool:
        raise DAVError(HTTP_FORBIDDEN, "the share jail has no properties to set")

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise DAVError(HTTP_FORBIDDEN, "the share jail lists shares; it holds nothing")

    create_empty_resource = _refuse
    create_collection = _refuse
    delete = _refuse
    handle_delete = _refuse
    handle_move = _refuse
    copy_move_single = _refuse
