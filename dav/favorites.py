"""REPORT ``oc:filter-files``: the caller's favourites, as OpenCloud's clients ask.

``<oc:filter-files><d:prop>…</d:prop><oc:filter-rules><oc:favorite>1
</oc:favorite></oc:filter-rules></oc:filter-files>``, sent to a files or
spaces URL, answers every item the caller marked (``oc:favorite`` by
PROPPATCH) and may still see, with the asked properties as PROPFIND gives
them. Items of the caller's own space keep the request's URL layout; others
are named by their space URL (``/dav/spaces/<drive-id>/…``), and items shared
with the caller by the share's (``/dav/spaces/<jail drive id>!<share id>/…``).
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from wsgidav import util
from wsgidav.dav_error import HTTP_BAD_REQUEST, DAVError

from app import favorites, shares, spaces
from app.models import Space
from app.storage import lookup
from dav import properties, propfind, report
from dav.properties import OC
from dav.resources import GroveResourceMixin

D = "{DAV:}"
SPACES = "/dav/spaces"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def marks_only(environ: dict[str, Any]) -> bool:
    """Whether a PROPPATCH only sets or removes ``oc:favorite`` for a signed-in
    user: a mark of one's own, which needs no right to change the item."""
    principal = environ.get("grove.principal")
    if principal is None or not principal.user_id or principal.read_only:
        return False
    try:
        root = etree.fromstring(environ["wsgi.input"].getvalue(), parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return False
    names = [
        prop.tag
        for action in root
        for holder in action
        for prop in holder
        if isinstance(prop.tag, str)
    ]
    return bool(names) and all(name == properties.FAVORITE for name in names)


def _request(root: Any) -> propfind.Request:
    """The asked properties; the rules must be exactly ``oc:favorite`` 1."""
    rules = root.find(f"{OC}filter-rules")
    if rules is None or len(rules) == 0:
        raise DAVError(HTTP_BAD_REQUEST, "oc:filter-files needs oc:filter-rules")
    for rule in rules:
        if rule.tag != f"{OC}favorite":
            raise DAVError(HTTP_BAD_REQUEST, f"unsupported filter rule {rule.tag!r}")
        if (rule.text or "").strip() != "1":
            raise DAVError(HTTP_BAD_REQUEST, "oc:favorite filters only on 1")
    prop = root.find(f"{D}prop")
    if prop is None:
        return propfind.Request("allprop", [])
    names = [str(p.tag) for p in prop if isinstance(p.tag, str)]
    return propfind.Request("named", names)


def _path(provider: Any, space: Space, parts: list[str], user_id: str) -> str:
    own = space.kind == "personal" and space.owner_id == user_id
    if own and provider.layout in ("files", "home"):
        base = provider.prefix(space)
    else:
        base = "/" + spaces.drive_id(space)
    return base + "".join("/" + part for part in parts)


def _provider_for(
    server: Any, environ: dict[str, Any], space: Space, user_id: str
) -> Any:
    """The request's provider for the caller's own items, else the spaces one."""
    provider = server._davProvider
    own = space.kind == "personal" and space.owner_id == user_id
    if own and provider.layout in ("files", "home"):
        return provider
    return _spaces_provider(environ)


def _spaces_provider(environ: dict[str, Any]) -> Any:
    return environ["wsgidav.app"].resolve_provider(SPACES + "/")[1]


def _shared_path(
    environ: dict[str, Any], space: Space, parts: list[str], user_id: str
) -> str | None:
    """The item's path through a share the caller syncs, in the spaces layout
    (``/<jail drive id>!<share id>/…``, OpenCloud Web's URLs), if any."""
    mounts: list[shares.Mount] | None = environ.get("grove.favorite_mounts")
    if mounts is None:
        mounts = [m for m in shares.mounts(user_id) if m.state.synchronize]
        environ["grove.favorite_mounts"] = mounts
    for mount in mounts:
        depth = len(mount.parts)
        if mount.space.id == space.id and parts[:depth] == mount.parts:
            rest = "".join("/" + part for part in parts[depth:])
            return f"/{shares.JAIL_DRIVE_ID}!{mount.grant.id}{rest}"
    return None


def _resource(server: Any, environ: dict[str, Any], node_id: str, user_id: str) -> Any:
    """The marked item as the caller reaches it now: own, member, or shared."""
    located = lookup.parts_of(node_id)
    if located is None:
        return None
    space, parts = located
    provider = _provider_for(server, environ, space, user_id)
    res = provider.get_resource_inst(_path(provider, space, parts, user_id), environ)
    if res is None:
        shared = _shared_path(environ, space, parts, user_id)
        if shared is not None:
            res = _spaces_provider(environ).get_resource_inst(shared, environ)
    if isinstance(res, GroveResourceMixin) and res.item.id == node_id:
        return res
    return None


def _resources(server: Any, environ: dict[str, Any], user_id: str) -> list[Any]:
    found = []
    for node_id in sorted(favorites.of_user(user_id)):
        res = _resource(server, environ, node_id, user_id)
        if res is not None:
            found.append(res)
    return found


def filter_files(
    server: Any, environ: dict[str, Any], start_response: Any, root: Any
) -> Any:
    request = _request(root)
    principal = environ.get("grove.principal")
    user_id = getattr(principal, "user_id", "")
    marked = _resources(server, environ, user_id) if user_id else []
    builders = [propfind.Builder(res, principal) for res in marked]
    body = propfind.build_many(builders, request, "0")
    start_response(
        "207 Multi-Status",
        [
            ("Content-Type", "application/xml; charset=utf-8"),
            ("Date", util.get_rfc1123_time()),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


report.register(f"{OC}filter-files", filter_files)
