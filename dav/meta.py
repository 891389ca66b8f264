"""Versions over WebDAV: the meta tree ``/dav/meta/<fileid>/v/<key>``.

PROPFIND ``/dav/meta/<fileid>`` gives ``oc:meta-path-for-user`` (the item's
path in its space); ``/v`` lists the file's versions; ``/v/<key>`` answers GET
and HEAD with a version's content; COPY of ``/v/<key>`` onto the file
restores it (the current content becoming a version). Listing and download
need VERSIONS, restoring VERSIONS_RESTORE and WRITE (app.acl, through
app.reach: also on a file shared with the caller), so a
SpaceEditorWithoutVersions or a Viewer sees none.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_FORBIDDEN,
    HTTP_NOT_FOUND,
    DAVError,
)
from wsgidav.dav_provider import DAVCollection, DAVNonCollection, DAVProvider

from app import acl, audit, errors, reach, spaces
from app.models import Version
from app.storage import lookup, versions
from app.storage.paths import split_path
from app.storage.tree import Item
from dav.errors import translated
from dav.properties import OC
from dav.virtual import VirtualRequestServer, destination

META_PATH = f"{OC}meta-path-for-user"
VERSIONS_FOLDER = "v"


class MetaProvider(DAVProvider):
    def __init__(self, grove: Any) -> None:
        super().__init__()
        self.grove = grove

    @property
    def request_server(self) -> type[MetaRequestServer]:
        return MetaRequestServer

    def is_readonly(self) -> bool:
        return False

    def _reach(self, file_id: str, environ: dict[str, Any]) -> reach.Reached | None:
        """The file as the caller reaches it: own, as a member, or shared."""
        principal = environ.get("grove.principal")
        node_id = lookup.node_id_of(file_id)
        located = lookup.parts_of(node_id)
        if principal is None or located is None:
            return None
        try:
            return reach.item(
                self.grove.tree,
                principal,
                spaces.drive_id(located[0]),
                node_id,
                memo=acl.request_memo(environ),
            )
        except errors.NotFound:
            return None

    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
        with translated():
            parts = split_path(path)
        if not parts:
            # What OpenCloud answers there too: the tree has no listing.
            raise DAVError(HTTP_BAD_REQUEST, "a file id is required: /dav/meta/<id>")
        if len(parts) > 3:
            return None
        reached = self._reach(parts[0], environ)
        if reached is None:
            return None
        node = MetaNode("/" + parts[0], environ, reached.item, reached.perms)
        node.provider = self
        if len(parts) == 1:
            return node
        folder = node.get_member(parts[1])
        if folder is None or len(parts) == 2:
            return folder
        return folder.get_member(parts[2])


class MetaNode(DAVCollection):
    """``/dav/meta/<fileid>``: the item, and its versions folder."""

    def __init__(
        self, path: str, environ: dict[str, Any], item: Item, perms: acl.Perm
    ) -> None:
        super().__init__(path, environ)
        self.item = item
        self.perms = perms

    @property
    def may_see_versions(self) -> bool:
        return not self.item.is_dir and acl.Perm.VERSIONS in self.perms

    def get_member_names(self) -> list[str]:
        return [VERSIONS_FOLDER] if self.may_see_versions else []

    def get_member(self, name: str) -> Any:
        if name != VERSIONS_FOLDER or not self.may_see_versions:
            return None
        folder = VersionsFolder(f"{self.path}/{name}", self.environ, self)
        folder.provider = self.provider
        return folder

    def get_display_name(self) -> str:
        return self.item.name

    def prevent_locking(self) -> bool:
        return True

    def get_property_names(self, *, is_allprop: bool) -> list[str]:
        names: list[str] = super().get_property_names(is_allprop=is_allprop)
        return names + [META_PATH, f"{OC}id", f"{OC}fileid"]

    def get_property_value(self, name: str) -> Any:
        if name == META_PATH:
            return "/" + "/".join(self.item.parts)
        if name in (f"{OC}id", f"{OC}fileid"):
            return spaces.resource_id(self.item.tree.space, self.item.id)
        if name.startswith("{DAV:}"):
            return super().get_property_value(name)
        raise DAVError(HTTP_NOT_FOUND)


class VersionsFolder(DAVCollection):
    """``/dav/meta/<fileid>/v``: the file's versions, newest first."""

    def __init__(self, path: str, environ: dict[str, Any], node: MetaNode) -> None:
        super().__init__(path, environ)
        self.node = node
        self._rows: dict[str, Version] | None = None

    def rows(self) -> dict[str, Version]:
        if self._rows is None:
            found = versions.listing(self.node.item.id)
            self._rows = {str(row.id): row for row in found}
        return self._rows

    def get_member_names(self) -> list[str]:
        return list(self.rows())

    def get_member(self, name: str) -> Any:
        row = self.rows().get(name)
        if row is None:
            return None
        entry = VersionFile(f"{self.path}/{name}", self.environ, self.node, row)
        entry.provider = self.provider
        return entry

    def prevent_locking(self) -> bool:
        return True


class VersionFile(DAVNonCollection):
    """``/dav/meta/<fileid>/v/<key>``: one earlier content of the file."""

    def __init__(
        self, path: str, environ: dict[str, Any], node: MetaNode, row: Version
    ) -> None:
        super().__init__(path, environ)
        self.node = node
        self.row = row

    def get_content_length(self) -> int:
        return int(self.row.size)

    def get_content_type(self) -> str:
        guessed = mimetypes.guess_type(self.node.item.name)[0]
        return guessed or "application/octet-stream"

    def get_last_modified(self) -> float:
        return int(self.row.mtime_ns) / 1e9

    def get_etag(self) -> str:
        return str(self.row.id)

    def support_etag(self) -> bool:
        return True

    def support_ranges(self) -> bool:
        return True

    def prevent_locking(self) -> bool:
        return True

    def get_display_name(self) -> str:
        return str(self.row.id)

    def get_property_names(self, *, is_allprop: bool) -> list[str]:
        names: list[str] = super().get_property_names(is_allprop=is_allprop)
        return names + [f"{OC}size", f"{OC}versions-edited-by"]

    def get_property_value(self, name: str) -> Any:
        if name == f"{OC}size":
            return str(self.row.size)
        if name == f"{OC}versions-edited-by":
            return str(self.row.created_by)
        return super().get_property_value(name)

    def get_content(self) -> Any:
        state_dir = self.provider.grove.settings.state_dir
        with translated():
            path = versions.open_content(state_dir, self.row)
        content = open(path, "rb", buffering=1024 * 1024)  # noqa: SIM115
        item = self.node.item
        audit.record(
            "file_read",
            target=f"/{item.tree.space.id}/{'/'.join(item.parts)}",
            detail=f"version={self.row.id}",
        )
        return content


class MetaRequestServer(VirtualRequestServer):
    def do_COPY(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Restore a version: COPY it onto the file it belongs to."""
        res = self._davProvider.get_resource_inst(environ["PATH_INFO"], environ)
        if not isinstance(res, VersionFile):
            raise DAVError(HTTP_NOT_FOUND if res is None else HTTP_FORBIDDEN)
        item = res.node.item
        for needed in (acl.Perm.VERSIONS_RESTORE, acl.Perm.WRITE):
            if needed not in res.node.perms:
                raise DAVError(HTTP_FORBIDDEN, f"not permitted here: {needed.name}")
        target = destination(environ, self.grove)
        if target.parts != item.parts or target.space.id != item.tree.space.id:
            raise DAVError(HTTP_FORBIDDEN, "a version is restored onto its own file")
        settings = self.grove.settings
        with translated():
            restored = versions.restore(
                item,
                res.row,
                settings.state_dir,
                durable=settings.durability == "fsync",
            )
        principal = environ.get("grove.principal")
        audit.record(
            "file_version_restore",
            actor=principal.name if principal else "",
            address=environ.get("REMOTE_ADDR", ""),
            target=f"/{item.tree.space.id}/{'/'.join(item.parts)}",
            detail=f"version={res.row.id}",
        )
        start_response(
            "204 No Content",
            [("Content-Length", "0"), ("ETag", f'"{restored.etag}"')],
        )
        return [b""]


def providers(grove: Any) -> dict[str, DAVProvider]:
    """Share path -> provider, for dav.app."""
    return {
        "/dav/meta": MetaProvider(grove),
        "/remote.php/dav/meta": MetaProvider(grove),
    }
