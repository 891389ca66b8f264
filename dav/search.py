"""REPORT ``oc:search-files``: KQL search as OpenCloud's clients send it.

``<oc:search-files><oc:search><oc:pattern>KQL</oc:pattern><oc:limit/>
<oc:offset/></oc:search></oc:search-files>``. Sent to a space's URL
(``/dav/spaces/<id>``) or a folder below, the search covers that space or
folder; sent to the share jail, what was shared with the user; sent to a
user's files root, everything the user may read. Hits carry OpenCloud's
search properties (``oc:fileid``, ``oc:file-parent``, ``oc:name``,
``oc:permissions``, ``oc:highlights``, ``oc:tags``, ``oc:size``,
``oc:score``; ``oc:shareid``, ``oc:shareroot``, ``oc:remote-item-id`` for
share hits) and the usual DAV properties; the total goes in
``Content-Range: rows <first>-<last>/<total>``. What a user may not read is
never found (app.search.service). docs/search.md has the whole story.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from lxml import etree
from wsgidav import util
from wsgidav.dav_error import HTTP_BAD_REQUEST, HTTP_NOT_FOUND, DAVError

from app import acl, forwarded, rows, shares, spaces
from app.models import Node, ShareState
from app.search import service
from app.search.service import Found
from app.spaces import root_path
from app.storage import ids
from dav import report, sharing
from dav.errors import translated
from dav.properties import OC
from dav.propfind import http_date

D = "{DAV:}"
NSMAP = {"d": "DAV:", "oc": OC[1:-1]}
HREF_SAFE = "/!*'(),$-_|."
DEFAULT_LIMIT = 100
SPACES = "/dav/spaces"  # hits outside the request's own layout


def _number(search: Any, name: str, default: int) -> int:
    element = search.find(f"{OC}{name}")
    if element is None or not (element.text or "").strip():
        return default
    text = element.text.strip()
    if not text.isdigit():
        raise DAVError(HTTP_BAD_REQUEST, f"oc:{name} must be a number")
    return int(text)


@dataclass
class _Scope:
    space: str | None = None
    folder: str | None = None
    shares_only: bool = False


def _scope(server: Any, environ: dict[str, Any]) -> _Scope:
    """What the request's URL narrows the search to (never more than it may read)."""
    provider = server._davProvider
    path = environ["PATH_INFO"]
    located = provider.resolve(path, environ)
    if isinstance(located, sharing.JailRoot):
        return _Scope(shares_only=True)
    if located is None:
        if path.strip("/"):
            raise DAVError(HTTP_NOT_FOUND)
        return _Scope()  # /dav/spaces/: everything the user may read
    res = provider.get_resource_inst(path, environ)
    if res is None:
        raise DAVError(HTTP_NOT_FOUND)
    space_id = str(located.space.id)
    if located.parts:
        return _Scope(space_id, res.item.id)
    if provider.layout == "spaces":
        return _Scope(space_id)
    return _Scope()  # a user's files root: everything they may read


class _Hrefs:
    """Where each hit is found in the caller's URLs, share mount names read once."""

    def __init__(self, server: Any, environ: dict[str, Any]) -> None:
        self.provider = server._davProvider
        self.environ = environ
        self.principal = environ.get("grove.principal")
        self._names: dict[str, str] | None = None
        self._all_named = False

    def mount_name(self, grant_id: str) -> str | None:
        """The share's name in the caller's jail (named now if never shown)."""
        user_id = self.principal.user_id if self.principal else ""
        if self._names is None:
            self._names = self._read_names(user_id)
        if grant_id not in self._names and not self._all_named:
            shares.mounts(user_id)  # names the shares not yet in the jail
            self._names = self._read_names(user_id)
            self._all_named = True
        return self._names.get(grant_id)

    @staticmethod
    def _read_names(user_id: str) -> dict[str, str]:
        states = ShareState.select().where(ShareState.user == user_id)
        return {str(state.grant_id): str(state.mount_name) for state in states}

    def __call__(self, found: Found) -> str:
        space = found.space
        parts = found.parts
        name = None if found.share is None else self.mount_name(str(found.share.id))
        if name is not None:
            # OpenCloud answers share hits in the recipient's share jail.
            base = f"{SPACES}/{shares.JAIL_DRIVE_ID}"
            parts = [name, *parts[found.share_depth :]]
        elif self._own(space) and self.provider.layout in ("files", "home"):
            provider = self.provider
            base = provider.mount_path + provider.share_path + provider.prefix(space)
        else:
            base = f"{SPACES}/{spaces.drive_id(space)}"
        href = quote(f"{base}/{'/'.join(parts)}", safe=HREF_SAFE)
        if found.hit.is_dir:
            href += "/"
        return self.environ.get(forwarded.PREFIX_KEY, "") + href

    def share_root(self, found: Found) -> str:
        if found.share is None:
            return ""
        return self.mount_name(str(found.share.id)) or ""

    def _own(self, space: Any) -> bool:
        return (
            space.kind == "personal"
            and self.principal is not None
            and space.owner_id == self.principal.user_id
        )


def _etag(found: Found, server: Any) -> str | None:
    storage = server.grove.storage_dir
    path = root_path(storage, found.space).joinpath(*found.parts)
    try:
        st = os.stat(path)
    except OSError:
        return None
    if found.hit.is_dir:
        row = rows.first(Node, id=found.hit.node_id)
        return None if row is None else ids.folder_etag(row.id, row.tree_mtime_ns, st)
    return ids.file_etag(found.hit.node_id, st)


def _response(server: Any, hrefs: _Hrefs, found: Found) -> Any:
    hit, space = found.hit, found.space
    response = etree.Element(f"{D}response", nsmap=NSMAP)
    etree.SubElement(response, f"{D}href").text = hrefs(found)
    propstat = etree.SubElement(response, f"{D}propstat")
    prop = etree.SubElement(propstat, f"{D}prop")

    def add(name: str, text: str | None) -> Any:
        element = etree.SubElement(prop, name)
        if text is not None:
            element.text = text
        return element

    file_id = spaces.resource_id(space, hit.node_id)
    add(f"{OC}fileid", file_id)
    add(f"{OC}id", file_id)
    if hit.parent_id is not None:
        add(f"{OC}file-parent", spaces.resource_id(space, hit.parent_id))
    add(f"{OC}spaceid", spaces.drive_id(space))
    add(f"{OC}name", hit.name)
    add(f"{D}displayname", hit.name)
    shared = found.share is not None
    letters = acl.oc_letters(found.perms, is_dir=hit.is_dir, shared=shared)
    add(f"{OC}permissions", letters)
    add(f"{OC}size", str(hit.size))
    add(f"{D}getlastmodified", http_date(hit.mtime))
    kind = add(f"{D}resourcetype", None)
    if hit.is_dir:
        etree.SubElement(kind, f"{D}collection")
    else:
        add(f"{D}getcontentlength", str(hit.size))
        add(f"{D}getcontenttype", hit.mediatype)
    etag = _etag(found, server)
    if etag is not None:
        add(f"{D}getetag", f'"{etag}"')
    add(f"{OC}highlights", hit.highlights)
    add(f"{OC}tags", ",".join(hit.tags))
    add(f"{OC}score", f"{hit.score:g}")
    if found.share is not None:
        add(f"{OC}shareid", str(found.share.id))
        add(f"{OC}shareroot", hrefs.share_root(found))
        add(f"{OC}remote-item-id", spaces.resource_id(space, found.share.node_id))
    etree.SubElement(propstat, f"{D}status").text = "HTTP/1.1 200 OK"
    return response


def search_files(
    server: Any, environ: dict[str, Any], start_response: Any, root: Any
) -> Any:
    search = root.find(f"{OC}search")
    pattern = search.find(f"{OC}pattern") if search is not None else None
    if pattern is None or not (pattern.text or "").strip():
        raise DAVError(HTTP_BAD_REQUEST, "oc:search-files needs an oc:pattern")
    limit = _number(search, "limit", DEFAULT_LIMIT)
    offset = _number(search, "offset", 0)
    scope = _scope(server, environ)
    with translated():
        page = service.search(
            server.grove.settings,
            environ.get("grove.principal"),
            str(pattern.text),
            limit=limit,
            offset=offset,
            scope_space=scope.space,
            scope_folder=scope.folder,
            shares_only=scope.shares_only,
        )
    hrefs = _Hrefs(server, environ)
    multistatus = etree.Element(f"{D}multistatus", nsmap=NSMAP)
    for found in page.found:
        multistatus.append(_response(server, hrefs, found))
    body = etree.tostring(multistatus, xml_declaration=True, encoding="utf-8")
    last = offset + max(len(page.found), 1) - 1
    start_response(
        "207 Multi-Status",
        [
            ("Content-Type", "application/xml; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Content-Range", f"rows {offset}-{last}/{page.total}"),
            ("Date", util.get_rfc1123_time()),
        ],
    )
    return [body]


report.register(f"{OC}search-files", search_files)
