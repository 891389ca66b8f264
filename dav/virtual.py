"""What the trash-bin and meta (versions) URL trees share: a request server
that refuses the methods they do not offer, and the resolution of a
Destination into a real item.

Their MOVE and COPY lead out of their own tree into a space (restore), which
WsgiDAV refuses between providers (502); their handlers do it themselves.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_METHOD_NOT_ALLOWED,
    DAVError,
)

from app import acl, forwarded
from app.models import Grant, Space
from app.storage.names import check_new_name
from app.storage.tree import Item
from dav.errors import translated
from dav.server import GroveRequestServer


class VirtualRequestServer(GroveRequestServer):
    """GroveRequestServer for URL trees that are not a space's files."""

    def _destination_in_own_layout(self, environ: dict[str, Any]) -> None:
        pass  # the Destination is resolved by the handler (see destination())

    def _refuse(self, environ: dict[str, Any], start_response: Any) -> Any:
        raise DAVError(HTTP_METHOD_NOT_ALLOWED, "not allowed here")

    do_PUT = _refuse
    do_MKCOL = _refuse
    do_PROPPATCH = _refuse
    do_LOCK = _refuse
    do_UNLOCK = _refuse
    do_POST = _refuse

    def do_MOVE(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._refuse(environ, start_response)

    def do_COPY(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._refuse(environ, start_response)

    def do_DELETE(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._refuse(environ, start_response)


class Destination:
    """Where a MOVE or COPY out of a virtual tree leads: a folder of a space
    (existing), the name in it, and the caller's permissions there."""

    def __init__(
        self, space: Space, folder: Item, name: str, perms: acl.Perm, grant: Any
    ) -> None:
        self.space = space
        self.folder = folder
        self.name = name
        self.perms = perms
        self.grant: Grant | None = grant

    @property
    def parts(self) -> list[str]:
        return self.folder.parts + [self.name]


def destination(environ: dict[str, Any], grove: Any) -> Destination:
    """Resolve the Destination header through the space providers."""
    header = environ.get("HTTP_DESTINATION")
    if not header:
        raise DAVError(HTTP_BAD_REQUEST, "a Destination header is required")
    path = unquote(urlsplit(header).path)
    prefix = environ.get(forwarded.PREFIX_KEY, "")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    share, provider = environ["wsgidav.app"].resolve_provider(path)
    if provider is None or not hasattr(provider, "resolve"):
        raise DAVError(HTTP_FORBIDDEN, "the Destination is not in a space")
    located = provider.resolve(path[len(share) :], environ)
    if located is None or not getattr(located, "parts", None):
        raise DAVError(HTTP_CONFLICT, "the Destination does not lead into a space")
    space, parts, grant = located.space, located.parts, located.grant
    with translated():
        name = check_new_name(parts[-1])
        folder = grove.tree(space).item(parts[:-1])
    if folder is None or not folder.is_dir:
        raise DAVError(HTTP_CONFLICT, "the destination folder does not exist")
    perms = acl.permissions(
        environ.get("grove.principal"),
        space,
        folder.parts,
        grant=grant,
        memo=acl.request_memo(environ),
    )
    return Destination(space, folder, name, perms, grant)
