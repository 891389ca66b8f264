"""The last middleware of WsgiDAV's stack, serving requests with Grove's server."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wsgidav.dav_error import HTTP_NOT_FOUND, DAVError
from wsgidav.request_resolver import RequestResolver

from dav.server import GroveRequestServer


class GroveRequestResolver(RequestResolver):
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        provider = environ["wsgidav.provider"]
        if environ["REQUEST_METHOD"] == "OPTIONS" and environ["PATH_INFO"] in (
            "*",
            "/",
        ):
            return super().__call__(environ, start_response)
        if provider is None:
            raise DAVError(
                HTTP_NOT_FOUND, f"no WebDAV share at {environ['PATH_INFO']!r}"
            )
        # A share may bring its own server (the upload doors do).
        server = getattr(provider, "request_server", GroveRequestServer)
        return server(provider)(environ, start_response)
