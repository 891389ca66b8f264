"""REPORT: one dispatch point for the reports Grove answers, by body element.

WsgiDAV has no REPORT handler. The request server hands every REPORT here;
each report registers the root element of its body (``oc:search-files`` in
dav/search.py, ``oc:filter-files`` for favorites). The body was already
size-limited and vetted (no DOCTYPE) by the request server's XML guard.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from lxml import etree
from wsgidav.dav_error import HTTP_BAD_REQUEST, HTTP_FORBIDDEN, DAVError

# (request server, environ, start_response, body root) -> WSGI body
Handler = Callable[[Any, dict[str, Any], Any, Any], Any]

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_HANDLERS: dict[str, Handler] = {}
# Modules that register reports; a report of another module adds it here.
REPORT_MODULES = ("dav.search", "dav.favorites")


def register(tag: str, handler: Handler) -> None:
    """Answer REPORTs whose body's root element is ``tag`` (Clark notation)."""
    _HANDLERS[tag] = handler


def answer(server: Any, environ: dict[str, Any], start_response: Any) -> Any:
    _load_reports()
    body = environ["wsgi.input"].read()
    if not body.strip():
        raise DAVError(HTTP_BAD_REQUEST, "REPORT needs a body")
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except etree.XMLSyntaxError:
        raise DAVError(HTTP_BAD_REQUEST, "malformed REPORT body") from None
    handler = _HANDLERS.get(str(root.tag))
    if handler is None:
        # RFC 3253 3.6: a report the resource does not support.
        raise DAVError(HTTP_FORBIDDEN, f"unsupported report {root.tag!r}")
    return handler(server, environ, start_response, root)


def _load_reports() -> None:
    for module in REPORT_MODULES:
        importlib.import_module(module)  # each registers its reports once
