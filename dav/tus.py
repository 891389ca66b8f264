"""TUS 1.0.0 resumable uploads (creation, creation-with-upload, checksum,
expiration), as OpenCloud's and ownCloud's clients use them.

- Creation: ``POST`` on a folder of any WebDAV layout with ``Tus-Resumable``,
  ``Upload-Length`` and ``Upload-Metadata`` (``filename``, which may be a path
  below the folder, ``mtime``, ``checksum`` as "SHA1 <hex>"). The permission
  function decides then, as for a PUT of that file; ``If-Match`` and
  ``X-OC-Mtime`` are kept for the commit. A body with
  ``Content-Type: application/offset+octet-stream`` is the first PATCH.
  The answer is 201 with ``Location: <base>/data/<token>``.
- ``/data/<token>``: ``HEAD`` (offset, length, expiry), ``PATCH`` (bytes at
  ``Upload-Offset``; another offset is 409; ``Upload-Checksum`` is verified
  per request, 460 on a mismatch), ``DELETE`` (termination), ``OPTIONS``.

Authentication: the token in the URL. It is 256 random bits, handed only to
the signed-in creator, and the database keeps only its hash. Requests to it
that carry credentials of another user are refused. The permission check
runs at creation and again, for the same user, at the commit.

State: an ``UploadSession`` row and ``<state>/uploads/<session>/data``; the
file's size is the offset, so an upload resumes where its bytes end, also
after a restart. Finished uploads commit through ``Upload.commit`` like a PUT.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from collections.abc import Iterable
from email.utils import formatdate
from typing import Any

from wsgidav import util
from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_FORBIDDEN,
    HTTP_METHOD_NOT_ALLOWED,
    HTTP_NOT_FOUND,
    DAVError,
)

from app import errors, forwarded, users
from app.auth.principal import Principal
from app.instance import Grove
from app.models import UploadSession
from app.storage import sessions
from app.storage.upload import Upload
from dav import doors
from dav.errors import to_dav_error, translated
from dav.resources import FolderResource

logger = logging.getLogger(__name__)

VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,checksum,expiration,termination"
ALGORITHMS = ",".join(sessions.ALGORITHMS)
OFFSET_TYPE = "application/offset+octet-stream"
DATA_SHARE = "/data"
DOOR = "tus"
# Headers a TUS client reads on every answer (and browsers may read).
OPTIONS_HEADERS = [
    ("Tus-Resumable", VERSION),
    ("Tus-Version", VERSION),
    ("Tus-Extension", EXTENSIONS),
    ("Tus-Checksum-Algorithm", ALGORITHMS),
]
EXPOSED = (
    "Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, "
    "Tus-Checksum-Algorithm, Upload-Offset, Upload-Length, Upload-Expires, "
    "Location, ETag, OC-ETag, OC-FileId, OC-Perm, X-OC-Mtime"
)


def _int(environ: dict[str, Any], key: str) -> int | None:
    value = environ.get(key)
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit():
        raise DAVError(HTTP_BAD_REQUEST, f"invalid {key[5:]} {value!r}")
    return int(value)


def parse_metadata(value: str) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64`` pairs."""
    found: dict[str, str] = {}
    for pair in value.split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, encoded = pair.partition(" ")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
            found[key] = decoded.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise DAVError(
                HTTP_BAD_REQUEST, f"Upload-Metadata {key!r} is not base64 UTF-8"
            ) from None
    return found


def parse_checksum(value: str | None) -> sessions.Checksum | None:
    """``Upload-Checksum: <algorithm> <base64 digest>``."""
    if not value:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    if algorithm.lower() not in sessions.ALGORITHMS:
        raise DAVError(HTTP_BAD_REQUEST, f"checksum algorithm {algorithm!r} unknown")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True).hex()
    except binascii.Error:
        raise DAVError(HTTP_BAD_REQUEST, "Upload-Checksum is not base64") from None
    return sessions.Checksum(algorithm.lower(), digest)


def _whole_file_checksum(value: str | None) -> str | None:
    """The metadata ``checksum`` ("SHA1 <hex>") as an OC-Checksum value."""
    if not value:
        return None
    kind, _, digest = value.strip().partition(" ")
    return f"{kind}:{digest.strip()}" if digest else None


def _expires_header(session: UploadSession) -> tuple[str, str]:
    return ("Upload-Expires", formatdate(session.expires, usegmt=True))


def _base_url(environ: dict[str, Any]) -> str:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
    return f"{scheme}://{host}{environ.get(forwarded.PREFIX_KEY, '')}"


def _mtime(environ: dict[str, Any], meta: dict[str, str]) -> float | None:
    from dav.server import _mtime_header

    if "HTTP_X_OC_MTIME" not in environ and meta.get("mtime"):
        environ["HTTP_X_OC_MTIME"] = meta["mtime"]
    return _mtime_header(environ)


def _etags(environ: dict[str, Any]) -> list[str] | None:
    value = environ.get("HTTP_IF_MATCH")
    if value is None:
        return None
    return [tag.strip().removeprefix("W/").strip('"') for tag in value.split(",")]


# --- creation (POST on a folder, from GroveRequestServer) -----------------------


def create(server: Any, environ: dict[str, Any], start_response: Any) -> Any:
    """Answer a TUS creation ``POST`` on a WebDAV folder."""
    if environ.get("HTTP_TUS_RESUMABLE") != VERSION:
        raise DAVError(
            HTTP_METHOD_NOT_ALLOWED, "POST is served for TUS 1.0.0 uploads only"
        )
    grove: Grove = server.grove
    provider = server._davProvider
    principal: Principal | None = environ.get("grove.principal")
    if principal is None:
        raise DAVError(HTTP_FORBIDDEN, "sign in required")
    if "HTTP_UPLOAD_DEFER_LENGTH" in environ:
        raise DAVError(HTTP_BAD_REQUEST, "Upload-Defer-Length is not supported")
    length = _int(environ, "HTTP_UPLOAD_LENGTH")
    if length is None:
        raise DAVError(HTTP_BAD_REQUEST, "Upload-Length is required")
    meta = parse_metadata(environ.get("HTTP_UPLOAD_METADATA", ""))
    filename = meta.get("filename", "").strip("/")
    if not filename:
        raise DAVError(HTTP_BAD_REQUEST, "Upload-Metadata has no filename")
    folder = provider.get_resource_inst(environ["PATH_INFO"], environ)
    if not isinstance(folder, FolderResource):
        raise DAVError(HTTP_NOT_FOUND, "POST creates uploads in a folder")
    below = environ["PATH_INFO"].rstrip("/") + "/" + filename
    target = doors.target_in(environ, provider, environ["SCRIPT_NAME"], below)
    doors.admit(
        grove,
        environ,
        target.folder.item,
        target.name,
        length=length,
        replacing=target.replacing,
        door=DOOR,
    )
    mtime = _mtime(environ, meta)
    space = target.folder.item.tree.space
    token = secrets.token_urlsafe(32)
    with translated():
        session = sessions.create(
            grove.staging_dir,
            kind=sessions.TUS,
            session_id=sessions.tus_session_id(token),
            user_id=principal.user_id,
            space_id=space.id,
            path="/".join(target.folder.item.parts + [target.name]),
            length=length,
            meta={
                "share": environ["SCRIPT_NAME"],
                "below": below,
                "mtime": mtime,
                "checksum": _whole_file_checksum(meta.get("checksum")),
                "etags": _etags(environ),
                "scope": principal.scope,
                "filename": filename,
            },
        )
    location = f"{_base_url(environ)}{DATA_SHARE}/{token}"
    logger.info("TUS upload %s started for %r", session.id[:12], below)
    data = TusData(grove, environ["wsgidav.app"])
    headers = [("Location", location)]
    if environ.get("CONTENT_TYPE", "").startswith(OFFSET_TYPE):
        # creation-with-upload: the body is the first PATCH.
        return data.patch(environ, start_response, session, 201, headers)
    headers.append(_expires_header(session))
    return data._send(start_response, "201 Created", headers, b"")


# --- the data endpoint (/data/<token>) ------------------------------------------


class TusDataProvider(doors.DoorProvider):
    """The ``/data`` share: served by :class:`TusData` alone."""

    def request_server(self, provider: Any) -> Any:
        return _DataServer(self.grove)


class _DataServer:
    def __init__(self, grove: Grove) -> None:
        self.grove = grove

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return TusData(self.grove, environ["wsgidav.app"]).answer(
            environ, start_response
        )


class TusData:
    def __init__(self, grove: Grove, dav_app: Any) -> None:
        self.grove = grove
        self.dav_app = dav_app
        self.staging = grove.staging_dir

    def answer(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        override = environ.get("HTTP_X_HTTP_METHOD_OVERRIDE", "").upper()
        if method == "POST" and override in ("PATCH", "DELETE", "HEAD"):
            method = override
        if method == "OPTIONS":
            return self._send(start_response, "204 No Content", [], b"")
        try:
            session = self._session(environ)
            if method == "HEAD":
                return self._head(start_response, session)
            if method == "PATCH":
                return self.patch(environ, start_response, session, 204, [])
            if method == "DELETE":
                sessions.remove(self.staging, session)
                logger.info("TUS upload %s terminated", session.id[:12])
                return self._send(start_response, "204 No Content", [], b"")
            return self._send(
                start_response,
                "405 Method Not Allowed",
                [("Allow", "OPTIONS, HEAD, PATCH, DELETE")],
                b"",
            )
        except errors.GroveError as error:
            return self._error(start_response, to_dav_error(error), error)
        except DAVError as error:
            return self._error(start_response, error, error)

    # --- answers ---------------------------------------------------------------

    def _send(
        self,
        start_response: Any,
        status: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> list[bytes]:
        start_response(
            status,
            [
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
                *OPTIONS_HEADERS,
                ("Access-Control-Expose-Headers", EXPOSED),
                *headers,
            ],
        )
        return [body]

    def _error(
        self, start_response: Any, error: DAVError, cause: Exception
    ) -> list[bytes]:
        code = error.value
        if isinstance(cause, errors.ChecksumMismatch) and getattr(
            cause, "tus_chunk", False
        ):
            code = 460
        reasons = {460: "Checksum Mismatch", 409: "Conflict", 404: "Not Found"}
        reason = (
            reasons.get(code) or util.get_http_status_string(code).partition(" ")[2]
        )
        text = (error.context_info or str(cause) or reason) + "\n"
        return self._send(
            start_response,
            f"{code} {reason}",
            [("Content-Type", "text/plain; charset=utf-8")],
            text.encode(),
        )

    def _session(self, environ: dict[str, Any]) -> UploadSession:
        token = environ.get("PATH_INFO", "").strip("/")
        if not token or "/" in token or len(token) > 128:
            raise DAVError(HTTP_NOT_FOUND, "no such upload")
        session = sessions.get(sessions.tus_session_id(token), kind=sessions.TUS)
        caller: Principal | None = environ.get("grove.principal")
        if caller is not None and caller.user_id != session.user_id:
            # The token is not enough for a caller who says they are someone else.
            raise DAVError(HTTP_NOT_FOUND, "no such upload")
        return session

    def _head(self, start_response: Any, session: UploadSession) -> list[bytes]:
        offset = sessions.tus_offset(self.staging, session)
        return self._send(
            start_response,
            "200 OK",
            [
                ("Upload-Offset", str(offset)),
                ("Upload-Length", str(session.length)),
                _expires_header(session),
            ],
            b"",
        )

    def patch(
        self,
        environ: dict[str, Any],
        start_response: Any,
        session: UploadSession,
        success: int,
        extra: list[tuple[str, str]],
    ) -> list[bytes]:
        from dav.server import _body

        try:
            if not environ.get("CONTENT_TYPE", "").startswith(OFFSET_TYPE):
                return self._send(
                    start_response,
                    "415 Unsupported Media Type",
                    [],
                    f"PATCH bodies are {OFFSET_TYPE}\n".encode(),
                )
            offset = _int(environ, "HTTP_UPLOAD_OFFSET")
            if offset is None:
                offset = 0 if success == 201 else -1
            if offset < 0:
                raise DAVError(HTTP_BAD_REQUEST, "Upload-Offset is required")
            checksum = parse_checksum(environ.get("HTTP_UPLOAD_CHECKSUM"))
            try:
                offset = sessions.tus_append(
                    self.staging,
                    session,
                    offset,
                    _body(environ),
                    checksum=checksum,
                    durable=self.grove.settings.durability == "fsync",
                )
            except errors.ChecksumMismatch as mismatch:
                mismatch.tus_chunk = True  # type: ignore[attr-defined]
                raise
            headers = [("Upload-Offset", str(offset)), _expires_header(session)]
            if offset == session.length:
                headers += self._finish(environ, session)
        except errors.GroveError as error:
            return self._error(start_response, to_dav_error(error), error)
        except DAVError as error:
            return self._error(start_response, error, error)
        status = "201 Created" if success == 201 else "204 No Content"
        return self._send(start_response, status, [*extra, *headers], b"")

    def _finish(
        self, environ: dict[str, Any], session: UploadSession
    ) -> list[tuple[str, str]]:
        """Commit a complete upload as its creator, through the PUT commit path."""
        meta = sessions.metadata(session)
        user = users.get(session.user_id)
        principal = Principal(
            user.id, user.name, is_admin=user.is_admin, scope=meta.get("scope", "full")
        )
        # The commit is the creator's act, whoever carries the token now.
        commit_environ = dict(environ)
        commit_environ["grove.principal"] = principal
        commit_environ["wsgidav.user_name"] = principal.name
        commit_environ.pop("grove.spaces", None)
        provider = self.dav_app.provider_map.get(meta.get("share", ""))
        if provider is None:
            raise DAVError(HTTP_NOT_FOUND, "the upload's target layout is gone")
        target = doors.target_in(commit_environ, provider, meta["share"], meta["below"])
        upload = Upload(self.staging, durable=self.grove.settings.durability == "fsync")
        try:
            with translated(), sessions.exclusive(self.staging, session):
                sessions.tus_feed(self.staging, session, upload)
            mtime = meta.get("mtime")
            item = doors.land(
                commit_environ,
                target,
                upload,
                mtime=mtime,
                etags=meta.get("etags"),
                token_list=[],
                checksum=meta.get("checksum"),
                door=DOOR,
            )
        except DAVError as error:
            if doors.refused_for_good(error) or isinstance(
                error.__cause__, errors.ChecksumMismatch
            ):
                # The bytes are all there and refused: no PATCH can mend them.
                sessions.remove(self.staging, session)
            raise
        finally:
            upload.abort()
        sessions.remove(self.staging, session)
        logger.info("TUS upload %s committed", session.id[:12])
        perms = target.existing.perms if target.existing else target.folder.perms
        return doors.answer_headers(item, perms, mtime)


def mount(dav_app: Any, grove: Grove) -> None:
    """Serve ``/data/<token>`` beside the WebDAV layouts."""
    dav_app.add_provider(DATA_SHARE, TusDataProvider(grove))
