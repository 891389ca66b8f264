"""REPORT ``oc:search-files``: KQL search as OpenCloud's clients send it.

``<oc:search-files><oc:search><oc:pattern>KQL</oc:pattern><oc:limit/>
<oc:offset/></oc:search></oc:search-files>``. Sent to a space's URL
(``/dav/spaces/<id>``) or a folder below, the search covers that space or
folder; sent to a user's files root, it covers everything the user may
read. Hits carry ``oc:fileid``, ``oc:file-parent``, ``oc:name``,
``oc:permissions``, ``oc:highlights``, ``oc:tags``, ``oc:size``,
``oc:score`` and the usual DAV properties; the total goes in
``Content-Range: rows <first>-<last>/<total>``. What a user may not read is
never found (app.search.service).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

from lxml import etree
from wsgidav import util
from wsgidav.dav_error import HTTP_BAD_REQUEST, DAVError

from app import acl, forwarded, spaces
from app.search import service
from app.search.service import Found
from app.spaces import root_path
from app.storage import ids
from dav import report
from dav.errors import translated
from dav.properties import OC
from dav.propfind import http_date

D = "{DAV:}"
NSMAP = {"d": "DAV:", "oc": OC[1:-1]}
HREF_SAFE = "/!*'(),$-_|."
DEFAULT_LIMIT = 100


def _number(search: Any, name: str, default: int) -> int:
    element = search.find(f"{OC}{name}")
    if element is None or not (element.text or "").strip():
        return default
    text = element.text.strip()
    if not text.isdigit():
        raise DAVError(HTTP_BAD_REQUEST, f"oc:{name} must be a number")
    return int(text)


def _scope(server: Any, environ: dict[str, Any]) -> tuple[str | None, str | None, Any]:
    """(space id, folder id, space) the request's URL narrows the search to."""
    provider = server._davProvider
    located = provider.locate(environ["PATH_INFO"], environ)
    if located is None:
        return None, None, None
    space, parts = located
    res = provider.get_resource_inst(environ["PATH_INFO"], environ)
    if res is None:
        raise DAVError(404)
    if parts:
        return str(space.id), res.item.id, space
    if provider.layout == "spaces":
        return str(space.id), None, space
    return None, None, space  # a user's files root: everything they may read


def _href(server: Any, environ: dict[str, Any], found: Found) -> str:
    provider = server._davProvider
    principal = environ.get("grove.principal")
    space = found.space
    path = "/".join(found.parts)
    own = (
        space.kind == "personal"
        and principal is not None
        and space.owner_id == principal.user_id
        and found.share is None
    )
    if provider.layout in ("files", "home") and own:
        base = provider.mount_path + provider.share_path + provider.prefix(space)
    else:
        root = (
            "/remote.php/dav"
            if provider.share_path.startswith("/remote.php")
            else "/dav"
        )
        base = f"{root}/spaces/{spaces.drive_id(space)}"
    href = quote(f"{base}/{path}", safe=HREF_SAFE)
    if found.hit.is_dir:
        href += "/"
    return environ.get(forwarded.PREFIX_KEY, "") + href


def _etag(found: Found, server: Any) -> str | None:
    storage = server.grove.storage_dir
    path = root_path(storage, found.space).joinpath(*found.parts)
    try:
        st = os.stat(path)
    except OSError:
        return None
    if found.hit.is_dir:
        from app.models import Node

        row = Node.get_or_none(Node.id == found.hit.node_id)
        return None if row is None else ids.folder_etag(row.id, row.tree_mtime_ns, st)
    return ids.file_etag(found.hit.node_id, st)


def _response(server: Any, environ: dict[str, Any], found: Found) -> Any:
    hit, space = found.hit, found.space
    response = etree.Element(f"{D}response", nsmap=NSMAP)
    etree.SubElement(response, f"{D}href").text = _href(server, environ, found)
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
    add(f"{OC}permissions", acl.oc_letters(found.perms, is_dir=hit.is_dir))
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
    scope_space, scope_folder, _ = _scope(server, environ)
    with translated():
        page = service.search(
            server.grove.settings,
            environ.get("grove.principal"),
            str(pattern.text),
            limit=limit,
            offset=offset,
            scope_space=scope_space,
            scope_folder=scope_folder,
        )
    multistatus = etree.Element(f"{D}multistatus", nsmap=NSMAP)
    for found in page.found:
        multistatus.append(_response(server, environ, found))
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
