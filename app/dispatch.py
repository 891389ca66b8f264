"""The front door: who is calling, then which half (WebDAV or Flask) answers.

Every request passes here once: it is authenticated, logged as one access
line, and routed by path prefix.
"""

from __future__ import annotations

import http.cookies
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote

from app import audit, filebody, forwarded, links
from app.auth import sessions
from app.auth.principal import Principal
from app.errors import BadRequest, Forbidden, NotFound, Throttled, Unauthorized
from app.instance import Grove
from app.storage.paths import check_url_path

logger = logging.getLogger("grove.access")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

DAV_PREFIXES = ("/remote.php/dav/", "/remote.php/webdav", "/webdav", "/dav/")
# Public links: the token in the path opens them, not an account.
PUBLIC_PREFIXES = ("/remote.php/dav/public-files/", "/dav/public-files/")
PUBLIC_CHALLENGE = ("WWW-Authenticate", 'Basic realm="Grove public link"')
# Methods that change nothing: a session cookie needs no CSRF token for them.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"})
# Over TLS, browsers are told to use nothing else for a year.
HSTS = ("Strict-Transport-Security", "max-age=31536000")
CHALLENGE = ("WWW-Authenticate", 'Basic realm="Grove", charset="UTF-8"')


def _cookie(environ: dict[str, Any], name: str) -> str:
    jar = http.cookies.SimpleCookie()
    try:
        jar.load(environ.get("HTTP_COOKIE", ""))
    except http.cookies.CookieError:
        return ""
    morsel = jar.get(name)
    return morsel.value if morsel is not None else ""


class _Logged:
    """Passes the body through and writes the access line when it is closed."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[int], None]) -> None:
        self._body = body
        self._on_close = on_close
        self._sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._sent += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._on_close(self._sent)
            audit.bind(None)


def _plain(
    start_response: Callable[..., Any],
    status: str,
    text: str,
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    body = (text + "\n").encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
    ]
    start_response(status, headers + (extra or []))
    return [body]


API_PREFIX = "/graph/"
_API_CODES = {
    "401": "unauthenticated",
    "403": "accessDenied",
    "429": "tooManyRequests",
}


def _json(
    start_response: Callable[..., Any],
    status: str,
    text: str,
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    """A refusal as the graph API words its errors: ``{"error": {code, message}}``."""
    code = _API_CODES.get(status[:3], "generalException")
    body = json.dumps({"error": {"code": code, "message": text}}).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
    ]
    start_response(status, headers + (extra or []))
    return [body]


def _readable(path: str) -> str:
    """A path as the client sent it: WSGI hands over its bytes decoded as latin-1."""
    try:
        return path.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return path


def _anonymous_options(start_response: Callable[..., Any]) -> list[bytes]:
    return _plain(
        start_response,
        "200 OK",
        "",
        [
            ("DAV", "1, 2"),
            ("MS-Author-Via", "DAV"),
            ("Allow", "OPTIONS, GET, HEAD, PROPFIND"),
        ],
    )


class Dispatcher:
    def __init__(self, grove: Grove, dav_app: WSGIApp, web_app: WSGIApp) -> None:
        self.grove = grove
        self.dav_app = dav_app
        self.web_app = web_app
        self.proxies = forwarded.parse_networks(grove.settings.trusted_proxies)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.monotonic()
        status_seen = ["-"]
        path = environ.get("PATH_INFO", "")
        forwarded.apply(environ, self.proxies)
        secure = environ.get("wsgi.url_scheme") == "https"

        def recording_start_response(
            status: str, headers: Any, exc_info: Any = None
        ) -> Any:
            status_seen[0] = status.split(" ", 1)[0]
            if secure:
                headers = [*headers, HSTS]
            return start_response(status, headers, exc_info)

        def log_line(sent: int) -> None:
            principal = environ.get("grove.principal")
            logger.info(
                "%s %s %r %s %d %.1fms %s",
                environ.get("REMOTE_ADDR", "-"),
                environ.get("REQUEST_METHOD"),
                _readable(path),
                status_seen[0],
                sent,
                (time.monotonic() - started) * 1000,
                principal.name if principal else "-",
            )

        slot = filebody.offer(environ) if path.startswith(DAV_PREFIXES) else None
        audit.bind(environ)
        body = self._route(environ, recording_start_response)
        if slot is not None:
            # gunicorn sends the file itself (sendfile) if it gets its wrapper.
            body, whole_file = filebody.settle(environ, body, slot, log_line)
            if whole_file:
                return body
        return _Logged(body, log_line)

    def _principal(self, environ: dict[str, Any]) -> Principal | None:
        """Who is calling: the Authorization header, else a session cookie."""
        address = environ.get("REMOTE_ADDR", "")
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if authorization:
            return self.grove.authenticate(authorization, address=address)
        cookie = _cookie(environ, sessions.COOKIE)
        if not cookie or environ.get("PATH_INFO") == "/signin":
            # Signing in again with a session cookie left over needs no token.
            return None
        found = self.grove.auth.session(
            cookie,
            changes_state=environ["REQUEST_METHOD"] not in SAFE_METHODS,
            csrf=environ.get("HTTP_X_CSRF_TOKEN", ""),
        )
        if found is None:
            return None
        environ["grove.session"] = found[1]
        return found[0]

    def _public(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """A request through a public link: its password (if any) as Basic,
        the user name ignored; the link is the principal."""
        path = environ.get("PATH_INFO", "")
        prefix = next(p for p in PUBLIC_PREFIXES if path.startswith(p))
        token = path[len(prefix) :].partition("/")[0]
        try:
            grant = self.grove.auth.link(
                token,
                environ.get("HTTP_AUTHORIZATION", ""),
                environ.get("REMOTE_ADDR", ""),
            )
        except NotFound:
            return _plain(start_response, "404 Not Found", "no such link")
        except Unauthorized as error:
            return _plain(
                start_response, "401 Unauthorized", str(error), [PUBLIC_CHALLENGE]
            )
        except Throttled as error:
            return _plain(
                start_response,
                "429 Too Many Requests",
                str(error),
                [("Retry-After", str(error.retry_after))],
            )
        principal = links.principal(grant)
        environ["grove.link"] = grant
        environ["grove.principal"] = principal
        environ["wsgidav.auth.user_name"] = principal.name
        return self.dav_app(environ, start_response)

    def _route(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        # The target as sent (cheroot: REQUEST_URI, gunicorn: RAW_URI): the
        # decoded PATH_INFO can no longer tell "%2F" from "/".
        raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        try:
            check_url_path(raw or quote(path, safe="/", encoding="latin-1"))
        except BadRequest as error:
            logger.warning("refused request target: %s", error)
            return _plain(start_response, "400 Bad Request", str(error))
        if environ["REQUEST_METHOD"] == "OPTIONS" and path in ("", "/", "*"):
            # Windows' mini-redirector probes the server root without credentials.
            return _anonymous_options(start_response)
        if path.startswith(PUBLIC_PREFIXES):
            return self._public(environ, start_response)
        # The API answers its errors in JSON, also before it is reached.
        refuse = _json if path.startswith(API_PREFIX) else _plain
        try:
            principal = self._principal(environ)
        except Unauthorized as error:
            return refuse(start_response, "401 Unauthorized", str(error), [CHALLENGE])
        except Forbidden as error:
            return refuse(start_response, "403 Forbidden", str(error))
        except Throttled as error:
            return refuse(
                start_response,
                "429 Too Many Requests",
                str(error),
                [("Retry-After", str(error.retry_after))],
            )
        if principal is not None:
            environ["grove.principal"] = principal
            environ["wsgidav.auth.user_name"] = principal.name
        if path.startswith("/data/"):
            # TUS upload data: the upload's unguessable token authenticates
            # (dav/tus.py); credentials, when sent, must be the creator's.
            environ.setdefault("wsgidav.auth.user_name", "")
            return self.dav_app(environ, start_response)
        if path.startswith(DAV_PREFIXES) or path in ("/remote.php/webdav", "/webdav"):
            if "grove.principal" not in environ:
                if environ["REQUEST_METHOD"] == "OPTIONS":
                    # davfs2 and Windows probe the mount URL before they sign
                    # in; the answer must not depend on what exists there.
                    return _anonymous_options(start_response)
                return _plain(
                    start_response, "401 Unauthorized", "sign in required", [CHALLENGE]
                )
            if environ["grove.principal"].enrolment_only:
                return _plain(
                    start_response,
                    "403 Forbidden",
                    "TOTP is required for this account: enrol at /auth/totp first",
                )
            environ.setdefault("wsgidav.auth.user_name", "")
            return self.dav_app(environ, start_response)
        return self.web_app(environ, start_response)
