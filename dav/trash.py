"""The trash-bin of each space over WebDAV: ``/dav/spaces/trash-bin/<drive-id>/``.

PROPFIND lists the deleted items (``oc:trashbin-original-filename``,
``-original-location``, ``-delete-datetime``, ``-delete-timestamp``); MOVE of
``<key>`` with a Destination in the space restores it (a taken name becomes
``name (1)`` …); DELETE of ``<key>`` purges it; DELETE of the root empties
the trash. Who may list, restore and purge is app.trashbin's answer (app.acl).
"""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

from wsgidav.dav_error import (
    HTTP_FORBIDDEN,
    HTTP_NOT_FOUND,
    DAVError,
)
from wsgidav.dav_provider import DAVCollection, DAVNonCollection, DAVProvider

from app import acl, errors, spaces, trashbin
from app.models import TrashItem
from app.storage.paths import split_path
from dav.errors import translated
from dav.properties import OC
from dav.virtual import VirtualRequestServer, destination

ORIGINAL_FILENAME = f"{OC}trashbin-original-filename"
ORIGINAL_LOCATION = f"{OC}trashbin-original-location"
DELETE_DATETIME = f"{OC}trashbin-delete-datetime"
DELETE_TIMESTAMP = f"{OC}trashbin-delete-timestamp"
ENTRY_PROPS = [
    ORIGINAL_FILENAME,
    ORIGINAL_LOCATION,
    DELETE_DATETIME,
    DELETE_TIMESTAMP,
    f"{OC}size",
    f"{OC}id",
    f"{OC}fileid",
]


class TrashProvider(DAVProvider):
    """Serves ``<drive-id>/`` (the listing) and ``<drive-id>/<key>`` (an item)."""

    def __init__(self, grove: Any) -> None:
        super().__init__()
        self.grove = grove

    @property
    def request_server(self) -> type[TrashRequestServer]:
        return TrashRequestServer

    def is_readonly(self) -> bool:
        return False

    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
        with translated():
            parts = split_path(path)
        if not parts or len(parts) > 2:
            return None
        try:
            bin_ = trashbin.open_bin(caller(environ), parts[0])
        except errors.NotFound:
            return None
        root = TrashRoot("/" + parts[0], environ, bin_)
        root.provider = self
        if len(parts) == 1:
            return root
        return root.get_member(parts[1])


def caller(environ: dict[str, Any]) -> trashbin.Caller:
    return trashbin.Caller(
        environ.get("grove.principal"),
        environ.get("REMOTE_ADDR", ""),
        acl.request_memo(environ),
    )


class TrashRoot(DAVCollection):
    def __init__(self, path: str, environ: dict[str, Any], bin_: trashbin.Bin) -> None:
        super().__init__(path, environ)
        self.bin = bin_
        self.space = bin_.space
        self._rows: dict[str, TrashItem] | None = None

    def rows(self) -> dict[str, TrashItem]:
        if self._rows is None:
            found = trashbin.entries(caller(self.environ), self.bin)
            self._rows = {str(row.id): row for row in found}
        return self._rows

    def get_member_names(self) -> list[str]:
        return list(self.rows())

    def get_member(self, name: str) -> Any:
        row = self.rows().get(name)
        if row is None:
            return None
        kind = TrashFolder if row.is_dir else TrashFile
        entry = kind(f"{self.path}/{name}", self.environ, self, row)
        entry.provider = self.provider
        return entry

    def get_display_name(self) -> str:
        return str(self.space.name)

    def prevent_locking(self) -> bool:
        return True

    def get_last_modified(self) -> float | None:
        return None

    def get_etag(self) -> str | None:
        return None

    def support_etag(self) -> bool:
        return False


class _Entry:
    """What trashed files and folders share: their properties."""

    root: TrashRoot
    row: TrashItem
    is_collection: bool

    def _setup(self, root: TrashRoot, row: TrashItem) -> None:
        self.root = root
        self.row = row

    def get_display_name(self) -> str:
        return str(self.row.name)

    def prevent_locking(self) -> bool:
        return True

    def get_last_modified(self) -> float:
        return float(self.row.deleted)

    def get_etag(self) -> str:
        return f"{self.row.id}:{int(self.row.deleted)}"

    def support_etag(self) -> bool:
        return True

    def get_property_names(self, *, is_allprop: bool) -> list[str]:
        names: list[str] = super().get_property_names(is_allprop=is_allprop)  # type: ignore[misc]
        return names + ENTRY_PROPS

    def get_property_value(self, name: str) -> Any:
        row = self.row
        if name == ORIGINAL_FILENAME:
            return str(row.name)
        if name == ORIGINAL_LOCATION:
            folder = str(row.original_path).strip("/")
            return f"{folder}/{row.name}" if folder else str(row.name)
        if name == DELETE_DATETIME:
            return formatdate(float(row.deleted), usegmt=True)
        if name == DELETE_TIMESTAMP:
            return str(int(row.deleted))
        if name == f"{OC}size":
            return str(row.size)
        if name in (f"{OC}id", f"{OC}fileid"):
            return spaces.resource_id(self.root.space, str(row.node_id))
        if name.startswith("{DAV:}"):
            return super().get_property_value(name)  # type: ignore[misc]
        raise DAVError(HTTP_NOT_FOUND)


class TrashFile(_Entry, DAVNonCollection):
    def __init__(
        self, path: str, environ: dict[str, Any], root: TrashRoot, row: TrashItem
    ) -> None:
        super().__init__(path, environ)
        self._setup(root, row)

    def get_content_length(self) -> int:
        return int(self.row.size)

    def get_content_type(self) -> str:
        return "application/octet-stream"

    def get_content(self) -> Any:
        raise DAVError(HTTP_FORBIDDEN, "restore the item to read it")


class TrashFolder(_Entry, DAVCollection):
    def __init__(
        self, path: str, environ: dict[str, Any], root: TrashRoot, row: TrashItem
    ) -> None:
        super().__init__(path, environ)
        self._setup(root, row)

    def get_member_names(self) -> list[str]:
        return []  # a trashed folder is restored or purged whole


class TrashRequestServer(VirtualRequestServer):
    def _resource(self, environ: dict[str, Any]) -> Any:
        res = self._davProvider.get_resource_inst(environ["PATH_INFO"], environ)
        if res is None:
            raise DAVError(HTTP_NOT_FOUND)
        return res

    def do_DELETE(self, environ: dict[str, Any], start_response: Any) -> Any:
        res = self._resource(environ)
        root = res if isinstance(res, TrashRoot) else res.root
        with translated():
            trashbin.purge(
                self.grove,
                caller(environ),
                root.bin,
                None if isinstance(res, TrashRoot) else res.row,
            )
        return self._send_status(environ, start_response, "204 No Content")

    def do_MOVE(self, environ: dict[str, Any], start_response: Any) -> Any:
        res = self._resource(environ)
        if isinstance(res, TrashRoot):
            raise DAVError(HTTP_FORBIDDEN, "move the items of the trash, not the trash")
        target = destination(environ, self.grove)
        with translated():
            restored = trashbin.restore(
                self.grove,
                caller(environ),
                res.root.bin,
                res.row,
                folder=target.folder,
                name=target.name,
            )
        return self._send_status(
            environ,
            start_response,
            "201 Created",
            [("OC-FileId", spaces.resource_id(restored.tree.space, restored.id))],
        )

    def _send_status(
        self,
        environ: dict[str, Any],
        start_response: Any,
        status: str,
        extra: list[tuple[str, str]] | None = None,
    ) -> Any:
        start_response(status, [("Content-Length", "0"), *(extra or [])])
        return [b""]


def providers(grove: Any) -> dict[str, DAVProvider]:
    """Share path -> provider, for dav.app."""
    return {
        "/dav/spaces/trash-bin": TrashProvider(grove),
        "/remote.php/dav/spaces/trash-bin": TrashProvider(grove),
    }
