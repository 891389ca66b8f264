"""Map each WebDAV URL layout onto spaces and paths, asking the one permission function.

Layouts (the share path WsgiDAV strips, then what the rest means):
``files``  ``/<user name or id>/<path>`` in that user's personal space;
``home``   ``/<path>`` in the signed-in user's personal space;
``spaces`` ``/<drive id or space uuid>/<path>``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from wsgidav import util
from wsgidav.dav_error import HTTP_CONFLICT, HTTP_FORBIDDEN, DAVError
from wsgidav.dav_provider import DAVProvider

from app import acl, errors, forwarded, spaces, users
from app.auth.principal import Principal
from app.instance import Grove
from app.models import Space
from app.storage.names import check_new_name
from app.storage.paths import split_path
from app.storage.tree import Item
from dav.errors import translated
from dav.resources import FileResource, FolderResource, GroveResourceMixin

# Characters WsgiDAV's get_href leaves unquoted (Nautilus chokes on "%28").
HREF_SAFE = "/!*'(),$-_|."


class GroveProvider(DAVProvider):
    def __init__(self, grove: Grove, layout: str) -> None:
        super().__init__()
        self.grove = grove
        self.layout = layout

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

    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
        located = self.locate(path, environ)
        if located is None:
            return None
        space, parts = located
        perms = acl.permissions(environ.get("grove.principal"), space, parts)
        if acl.Perm.READ not in perms:
            return None
        with translated():
            item = self.grove.tree(space).item(parts)
        if item is None:
            return None
        return self.resource_for(path, environ, item, perms)

    def resource_for(
        self,
        path: str,
        environ: dict[str, Any],
        item: Item,
        perms: acl.Perm | None = None,
    ) -> GroveResourceMixin:
        if perms is None:
            perms = acl.permissions(
                environ.get("grove.principal"), item.tree.space, item.parts
            )
        kind = FolderResource if item.is_dir else FileResource
        resource = kind(path, environ, item, perms)
        resource.provider = self
        return resource

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
        space = Space.get_or_none(Space.id == space_id)
        if space is None:
            return "/" + rest
        return self.prefix(space) + "/" + rest

    def href_for_ref_url(self, ref_url: str, environ: dict[str, Any]) -> str:
        """The href of a lock root in this layout, quoted as WsgiDAV's get_href does."""
        path = self.ref_url_to_path(ref_url)
        href = quote(self.mount_path + self.share_path + path, safe=HREF_SAFE)
        return environ.get(forwarded.PREFIX_KEY, "") + href
