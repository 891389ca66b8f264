"""Map each WebDAV URL layout onto spaces and paths, asking the one permission function.

Layouts (the share path WsgiDAV strips, then what the rest means):
``files``  ``/<user name or id>/<path>`` in that user's personal space;
``home``   ``/<path>`` in the signed-in user's personal space;
``spaces`` ``/<drive id or space uuid>/<path>``;
``public`` ``/<link token>/<path>`` in the item a public link shares.
The share jail (dav.sharing) lives in ``spaces`` under its fixed id and in
``files``/``home`` under ``Shares/``.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote, unquote

from wsgidav import util
from wsgidav.dav_error import HTTP_CONFLICT, HTTP_FORBIDDEN, DAVError
from wsgidav.dav_provider import DAVProvider

from app import acl, errors, forwarded, spaces, users
from app.auth.principal import Principal
from app.instance import Grove
from app.models import Grant, Space
from app.perms import VISIBLE
from app.storage.names import check_new_name
from app.storage.paths import split_path
from app.storage.tree import Item
from dav import sharing
from dav.errors import translated
from dav.resources import FileResource, FolderResource, GroveResourceMixin

# Characters WsgiDAV's get_href leaves unquoted (Nautilus chokes on "%28").
HREF_SAFE = "/!*'(),$-_|."


class GroveProvider(DAVProvider):
    def __init__(self, grove: Grove, layout: str) -> None:
        super().__init__()
        self.grove = grove
        self.layout = layout
        self._current = threading.local()

    def __repr__(self) -> str:
        return f"GroveProvider({self.layout!r})"

    def is_readonly(self) -> bool:
        return False

    # --- URL path to space and names -----------------------------------------

    def locate(
        self, path: str, environ: dict[str, Any]
    ) -> tuple[Space, list[str]] | None:
        with translated():
            parts = split_path(path)
        if self.layout == "home":
            key = None
        elif not parts:
            return None
        else:
            key, parts = parts[0], parts[1:]
        # A MOVE resolves four paths in one space: look the space up once.
        memo: dict[tuple[str, str | None], Space | None]
        memo = environ.setdefault("grove.spaces", {})
        if (self.layout, key) not in memo:
            memo[(self.layout, key)] = self._space(key, environ)
        space = memo[(self.layout, key)]
        return None if space is None else (space, parts)

    def _space(self, key: str | None, environ: dict[str, Any]) -> Space | None:
        principal: Principal | None = environ.get("grove.principal")
        try:
            if key is None:
                if principal is None:
                    return None
                return spaces.personal_space(users.get(principal.user_id))
            if self.layout == "files":
                return spaces.personal_space(users.get(key))
            return spaces.by_drive_id(key)
        except errors.NotFound:
            return None

    def prefix(self, space: Space) -> str:
        """The path of a space's root in this layout (below the share path)."""
        if self.layout == "home":
            return ""
        if self.layout == "files":
            owner = space.owner
            if owner is not None:
                return "/" + str(owner.name)
        return "/" + spaces.drive_id(space)

    def resolve(self, path: str | None, environ: dict[str, Any]) -> Any:
        """Where ``path`` leads: a Location (space, path, and the share or link
        it is reached through), the share jail's root, or None."""
        if path is None:
            return None  # WsgiDAV's parent of the mount point's root: nothing
        shared = sharing.resolve(self, path, environ)
        if shared is not sharing.NOT_SHARED:
            return shared
        located = self.locate(path, environ)
        return None if located is None else sharing.Location(*located)

    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
        # WsgiDAV asks ref_url_to_path without the request: remember it here.
        self._current.environ = environ
        located = self.resolve(path, environ)
        if located is None:
            return None
        if isinstance(located, sharing.JailRoot):
            return sharing.JailFolder(path, environ, self, located)
        space, parts, grant = located.space, located.parts, located.grant
        perms = acl.permissions(
            environ.get("grove.principal"),
            space,
            parts,
            grant=grant,
            memo=acl.request_memo(environ),
        )
        if located.mount:
            # A share's root is neither deleted nor renamed through the jail
            # or the link (its owner does that).
            perms &= ~(acl.Perm.DELETE | acl.Perm.RENAME)
        if not perms & VISIBLE:
            return None
        with translated():
            item = self.grove.tree(space).item(parts)
        if item is None:
            return None
        perms = acl.through_symlink(
            environ.get("grove.principal"),
            item,
            perms,
            grant=grant,
            memo=acl.request_memo(environ),
        )
        if not perms & VISIBLE:
            return None
        sharing.check_download(environ, path, item, perms)
        return self.resource_for(
            path, environ, item, perms, grant=grant, mount=located.mount
        )

    def resource_for(
        self,
        path: str,
        environ: dict[str, Any],
        item: Item,
        perms: acl.Perm | None = None,
        *,
        grant: Grant | None = None,
        mount: bool = False,
    ) -> GroveResourceMixin:
        if perms is None:
            perms = acl.permissions(
                environ.get("grove.principal"),
                item.tree.space,
                item.parts,
                grant=grant,
                memo=acl.request_memo(environ),
            )
        kind = FolderResource if item.is_dir else FileResource
        resource = kind(path, environ, item, perms)
        resource.provider = self
        resource.grant = grant
        resource.mount = mount
        return resource

    def parent_for_put(self, path: str, environ: dict[str, Any], res: Any) -> Any:
        """The folder a PUT commits into: the URL's parent, or for a shared
        file reached as a mount (jail or link root) its real folder."""
        if res is not None and getattr(res, "mount", False):
            return sharing.real_parent(self, res)
        return self.get_resource_inst(util.get_uri_parent(path), environ)

    # --- destinations and lock roots ------------------------------------------

    def destination(
        self, dest_path: str, environ: dict[str, Any]
    ) -> tuple[FolderResource, str, GroveResourceMixin | None]:
        """The folder, new name and any existing item at a MOVE/COPY destination."""
        parent_path, name = util.get_uri_parent(dest_path), util.get_uri_name(dest_path)
        folder = self.get_resource_inst(parent_path, environ)
        if not isinstance(folder, FolderResource):
            raise DAVError(HTTP_CONFLICT, "the destination folder does not exist")
        with translated():
            name = check_new_name(name)
        if acl.Perm.CREATE not in folder.perms:
            raise DAVError(HTTP_FORBIDDEN, "not permitted to create in the destination")
        existing = self.get_resource_inst(dest_path, environ)
        return folder, name, existing

    def lock_url(self, path: str, environ: dict[str, Any]) -> str | None:
        """The lock URL (canonical ref URL) of ``path``, also before it exists."""
        res = self.get_resource_inst(path, environ)
        if res is not None:
            return str(res.get_ref_url())
        parent = self.get_resource_inst(util.get_uri_parent(path), environ)
        if not isinstance(parent, FolderResource):
            return None
        name = str(util.quote(util.get_uri_name(path)))
        return parent.get_ref_url() + "/" + name

    def ref_url_to_path(self, ref_url: str) -> str:
        space_id, _, rest = unquote(ref_url).lstrip("/").partition("/")
        # A request through a share or link names lock roots as it reaches them.
        environ = getattr(self._current, "environ", None)
        shared = sharing.path_for(self, environ, space_id, rest)
        if shared is not None:
            return shared
        space = Space.get_or_none(Space.id == space_id)
        if space is None:
            return "/" + rest
        return self.prefix(space) + "/" + rest

    def href_for_ref_url(self, ref_url: str, environ: dict[str, Any]) -> str:
        """The href of a lock root in this layout, quoted as WsgiDAV's get_href does."""
        path = self.ref_url_to_path(ref_url)
        href = quote(self.mount_path + self.share_path + path, safe=HREF_SAFE)
        return environ.get(forwarded.PREFIX_KEY, "") + href
