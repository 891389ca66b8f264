"""PROPFIND with ``<propname/>`` (RFC 4918 9.1): the names of all properties.

WsgiDAV 4.4 looks for a ``<name/>`` element instead of ``<propname/>``, so a
real propname request falls through as a request for no properties and
answers nothing (cadaver's ``propnames`` printed an empty list).
"""

from __future__ import annotations

import io
from typing import Any

from lxml import etree
from wsgidav import util, xml_tools
from wsgidav.dav_error import HTTP_BAD_REQUEST, HTTP_NOT_FOUND, DAVError

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def asks_for_names(environ: dict[str, Any]) -> bool:
    """Whether the (already buffered and vetted) PROPFIND body is a propname."""
    body = environ["wsgi.input"]
    if not isinstance(body, io.BytesIO) or b"propname" not in body.getvalue():
        return False
    try:
        root = etree.fromstring(body.getvalue(), parser=_PARSER)
    except etree.XMLSyntaxError:
        return False
    return root.tag == "{DAV:}propfind" and root.find("{DAV:}propname") is not None


def answer_names(server: Any, environ: dict[str, Any], start_response: Any) -> Any:
    """The 207 listing each resource's property names, without values."""
    depth = environ.get("HTTP_DEPTH", "infinity").lower()
    if depth not in ("0", "1", "infinity"):
        raise DAVError(HTTP_BAD_REQUEST, f"invalid Depth {depth!r}")
    res = server._davProvider.get_resource_inst(environ["PATH_INFO"], environ)
    if res is None:
        raise DAVError(HTTP_NOT_FOUND)
    server._evaluate_if_headers(res, environ)

    multistatus = xml_tools.make_multistatus_el()
    for member in res.get_descendants(depth=depth, add_self=True):
        names = member.get_properties("name")
        util.add_property_response(multistatus, member.get_href(), names)
    return util.send_multi_status_response(environ, start_response, multistatus)
