"""Chunked upload NG, as the Nextcloud desktop client and rclone use it.

Below ``/remote.php/dav/uploads/<user>/`` (also ``/dav/uploads/``):

- ``MKCOL <transfer>`` starts an upload (``OC-Total-Length`` and, chunking
  v2, ``Destination`` optional);
- ``PUT <transfer>/<chunk>`` stores one chunk, whole or not at all; names are
  numbers (v2: 1..10000; v1: zero-padded byte offsets) and the chunks are
  joined in the order of their names;
- ``PROPFIND <transfer>`` lists the chunks with their sizes (a client
  resuming an upload asks which it still has to send);
- ``MOVE <transfer>/.file`` with ``Destination`` joins the chunks and
  commits the file through the same commit path as a PUT. ``OC-Total-Length``
  must match the bytes stored (400 otherwise, nothing committed);
  ``OC-Checksum``, ``X-OC-Mtime``, ``If-Match`` and an ``If`` header with the
  destination's entity tag are honoured;
- ``DELETE <transfer>`` cancels the upload; ``DELETE <transfer>/<chunk>``
  drops one chunk.

Chunks live in ``<state>/uploads/<session>/`` with an ``UploadSession`` row;
an upload not touched for 24 hours is removed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

from lxml import etree
from wsgidav import util
from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_CREATED,
    HTTP_FORBIDDEN,
    HTTP_METHOD_NOT_ALLOWED,
    HTTP_NO_CONTENT,
    HTTP_NOT_FOUND,
    DAVError,
)

from app import errors, forwarded, pipeline
from app.auth.principal import Principal
from app.instance import Grove
from app.models import UploadSession
from app.storage import sessions
from app.storage.paths import split_path
from app.storage.upload import Upload
from dav import doors
from dav.errors import translated

# The request body reader, XML guard and X-OC-Mtime parser every PUT uses.
from dav.server import _body, _mtime_header, guard_xml_body

logger = logging.getLogger(__name__)

FINAL = ".file"
DOOR = "chunked"
DAV_NS = "DAV:"


def _int_header(environ: dict[str, Any], name: str) -> int | None:
    value = environ.get(name)
    if value is None or value.strip() == "":
        return None
    if not value.strip().isdigit():
        raise DAVError(HTTP_BAD_REQUEST, f"invalid {name[5:]} {value!r}")
    return int(value)


class UploadsProvider(doors.DoorProvider):
    """The ``uploads`` share: served by :class:`ChunkedUploadServer` alone."""

    @property
    def request_server(self) -> type[ChunkedUploadServer]:
        return ChunkedUploadServer


class ChunkedUploadServer:
    def __init__(self, provider: UploadsProvider) -> None:
        self.provider = provider
        self.grove = provider.grove
        self.staging = self.grove.staging_dir

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        principal: Principal | None = environ.get("grove.principal")
        if principal is None:
            raise DAVError(HTTP_FORBIDDEN, "sign in required")
        environ["wsgidav.user_name"] = environ.get("wsgidav.auth.user_name", "")
        method = environ["REQUEST_METHOD"]
        with translated():
            parts = split_path(environ["PATH_INFO"])
        if method == "OPTIONS":
            return self._options(environ, start_response)
        if not parts:
            raise DAVError(HTTP_NOT_FOUND, "name a user's upload folder")
        if parts[0] not in (principal.name, principal.user_id):
            # Another user's uploads are not even there.
            raise DAVError(HTTP_NOT_FOUND, "no such upload folder")
        if principal.read_only:
            if method not in ("PROPFIND", "HEAD", "GET"):
                raise DAVError(HTTP_FORBIDDEN, "this credential is read-only")
        handler = getattr(self, f"_do_{method.lower()}", None)
        if handler is None:
            raise DAVError(HTTP_METHOD_NOT_ALLOWED, f"{method} is not served here")
        result: Iterable[bytes] = handler(environ, start_response, principal, parts)
        return result

    # --- helpers ------------------------------------------------------------------

    def _session(self, principal: Principal, transfer: str) -> Any:
        with translated():
            return sessions.get(
                sessions.chunked_session_id(principal.user_id, transfer),
                kind=sessions.CHUNKED,
                user_id=principal.user_id,
            )

    def _status(
        self,
        environ: dict[str, Any],
        start_response: Any,
        status: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        return list(
            util.send_status_response(
                environ, start_response, status, add_headers=headers or []
            )
        )

    def _options(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(
            "200 OK",
            [
                ("Content-Length", "0"),
                ("DAV", "1"),
                ("Allow", "OPTIONS, MKCOL, PUT, PROPFIND, MOVE, DELETE"),
            ],
        )
        return [b""]

    # --- methods ------------------------------------------------------------------

    def _do_mkcol(
        self,
        environ: dict[str, Any],
        start_response: Any,
        principal: Principal,
        parts: list[str],
    ) -> list[bytes]:
        if len(parts) != 2:
            raise DAVError(HTTP_METHOD_NOT_ALLOWED, "an upload is one folder deep")
        transfer = parts[1]
        if not transfer or transfer.startswith(".") or len(transfer) > 255:
            raise DAVError(HTTP_BAD_REQUEST, f"invalid upload name {transfer!r}")
        length = _int_header(environ, "HTTP_OC_TOTAL_LENGTH")
        destination = environ.get("HTTP_DESTINATION")
        space_id = None
        dest_path = ""
        if destination:
            # Chunking v2 names the target up front: refuse now what would
            # be refused at the end.
            dest_path = doors.url_path(environ, destination)
            target = doors.resolve(environ, dest_path)
            space_id = target.folder.item.tree.space.id
            doors.admit(
                self.grove,
                environ,
                target.folder.item,
                target.name,
                length=length,
                replacing=target.replacing,
                door=DOOR,
            )
        else:
            self._check_size(length)
        with translated():
            try:
                sessions.create(
                    self.staging,
                    kind=sessions.CHUNKED,
                    session_id=sessions.chunked_session_id(principal.user_id, transfer),
                    user_id=principal.user_id,
                    space_id=space_id,
                    path=dest_path,
                    length=length,
                    meta={"transfer": transfer},
                )
            except errors.Conflict:
                raise DAVError(
                    HTTP_METHOD_NOT_ALLOWED, "the upload folder exists"
                ) from None
        return self._status(environ, start_response, HTTP_CREATED)

    def _check_size(self, length: int | None) -> None:
        """The pipeline's size limit for what the chunks announce or hold."""
        with translated():
            pipeline.for_state_dir(self.grove.settings.state_dir).check_declared_size(
                length
            )

    def _do_put(
        self,
        environ: dict[str, Any],
        start_response: Any,
        principal: Principal,
        parts: list[str],
    ) -> list[bytes]:
        if len(parts) != 3:
            raise DAVError(HTTP_CONFLICT, "chunks go into an upload folder")
        session = self._session(principal, parts[1])
        with translated():
            name = sessions.check_chunk_name(parts[2])
            stored = dict(sessions.chunks(self.staging, session))
            size = sessions.store_chunk(
                self.staging,
                session,
                name,
                _body(environ),
                durable=self.grove.settings.durability == "fsync",
            )
        total = sum(stored.values()) - stored.get(name, 0) + size
        try:
            if session.length is not None and total > session.length:
                raise DAVError(
                    HTTP_BAD_REQUEST,
                    f"the chunks hold {total} bytes, more than OC-Total-Length "
                    f"{session.length}",
                )
            self._check_size(total)
        except DAVError:
            with translated():
                sessions.remove_chunk(self.staging, session, name)
            raise
        status = HTTP_NO_CONTENT if name in stored else HTTP_CREATED
        return self._status(environ, start_response, status)

    def _do_delete(
        self,
        environ: dict[str, Any],
        start_response: Any,
        principal: Principal,
        parts: list[str],
    ) -> list[bytes]:
        if len(parts) == 2:
            session = self._session(principal, parts[1])
            sessions.remove(self.staging, session)
        elif len(parts) == 3:
            session = self._session(principal, parts[1])
            with translated():
                sessions.remove_chunk(self.staging, session, parts[2])
        else:
            raise DAVError(HTTP_FORBIDDEN, "only uploads and chunks can be deleted")
        return self._status(environ, start_response, HTTP_NO_CONTENT)

    def _do_get(
        self,
        environ: dict[str, Any],
        start_response: Any,
        principal: Principal,
        parts: list[str],
    ) -> list[bytes]:
        raise DAVError(HTTP_METHOD_NOT_ALLOWED, "chunks cannot be downloaded")

    _do_head = _do_get

    def _do_propfind(
        self,
        environ: dict[str, Any],
        start_response: Any,
        principal: Principal,
        parts: list[str],
    ) -> list[bytes]:
        guard_xml_body(environ, self.grove.settings.max_xml_body_bytes)
        depth = environ.get("HTTP_DEPTH", "1").lower()
        base = (
            environ.get(forwarded.PREFIX_KEY, "")
            + environ.get("SCRIPT_NAME", "")
            + "/"
            + parts[0]
        )
        entries: list[tuple[str, int | None, float]] = []
        if len(parts) == 1:
            entries.append((base + "/", None, time.time()))
            if depth != "0":
                for row in UploadSession.select().where(
                    (UploadSession.user == principal.user_id)
                    & (UploadSession.kind == sessions.CHUNKED)
                    & (UploadSession.expires > time.time())
                ):
                    transfer = str(sessions.metadata(row).get("transfer", ""))
                    entries.append((f"{base}/{transfer}/", None, row.created))
        elif len(parts) == 2:
            session = self._session(principal, parts[1])
            folder = f"{base}/{parts[1]}/"
            entries.append((folder, None, session.created))
            if depth != "0":
                with translated():
                    listed = sessions.chunks(self.staging, session)
                where = sessions.folder(self.staging, session)
                for name, size in listed:
                    mtime = (where / name).stat().st_mtime
                    entries.append((folder + name, size, mtime))
        else:
            session = self._session(principal, parts[1])
            with translated():
                found = dict(sessions.chunks(self.staging, session))
            if parts[2] not in found:
                raise DAVError(HTTP_NOT_FOUND, f"no chunk {parts[2]!r}")
            mtime = (sessions.folder(self.staging, session) / parts[2]).stat().st_mtime
            entries.append((f"{base}/{parts[1]}/{parts[2]}", found[parts[2]], mtime))
        body = _multistatus(entries)
        start_response(
            "207 Multi-Status",
            [
                ("Content-Type", "application/xml; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]

    def _do_move(
        self,
        environ: dict[str, Any],
        start_response: Any,
        principal: Principal,
        parts: list[str],
    ) -> list[bytes]:
        if len(parts) != 3 or parts[2] != FINAL:
            raise DAVError(HTTP_FORBIDDEN, f"only {FINAL} of an upload can be moved")
        if "HTTP_DESTINATION" not in environ:
            raise DAVError(HTTP_BAD_REQUEST, "MOVE needs a Destination")
        session = self._session(principal, parts[1])
        util.parse_if_header_dict(environ)
        mtime = _mtime_header(environ)
        target = doors.resolve(
            environ, doors.url_path(environ, environ["HTTP_DESTINATION"])
        )
        with translated():
            listed = sessions.chunks(self.staging, session)
        stored = sum(size for _, size in listed)
        for header in ("HTTP_OC_TOTAL_LENGTH", "HTTP_OC_TOTAL_FILE_LENGTH"):
            expected = _int_header(environ, header)
            if expected is not None and expected != stored:
                raise DAVError(
                    HTTP_BAD_REQUEST,
                    f"{header[5:].replace('_', '-')} is {expected}, "
                    f"the chunks hold {stored} bytes",
                )
        if session.length is not None and session.length != stored:
            raise DAVError(
                HTTP_BAD_REQUEST,
                f"the upload was announced with {session.length} bytes, "
                f"the chunks hold {stored}",
            )
        etags = doors.if_header_etags(environ, target)
        if "HTTP_IF_MATCH" in environ:
            etags = [
                tag.strip().removeprefix("W/").strip('"')
                for tag in environ["HTTP_IF_MATCH"].split(",")
            ]
        settings = self.grove.settings
        upload = Upload(self.grove.staging_dir, durable=settings.durability == "fsync")
        try:
            with translated(), sessions.exclusive(self.staging, session):
                sessions.chunked_feed(self.staging, session, upload)
            item = doors.land(
                environ,
                target,
                upload,
                mtime=mtime,
                etags=etags,
                token_list=environ.get("wsgidav.ifLockTokenList", []),
                checksum=environ.get("HTTP_OC_CHECKSUM"),
                door=DOOR,
            )
        except DAVError as error:
            if doors.refused_for_good(error):
                # The same chunks would be refused again: nothing is kept.
                sessions.remove(self.staging, session)
            raise
        finally:
            upload.abort()
        sessions.remove(self.staging, session)
        perms = target.existing.perms if target.existing else target.folder.perms
        status = HTTP_NO_CONTENT if target.existing else HTTP_CREATED
        return self._status(
            environ, start_response, status, doors.answer_headers(item, perms, mtime)
        )


def _multistatus(entries: list[tuple[str, int | None, float]]) -> bytes:
    root = etree.Element(f"{{{DAV_NS}}}multistatus", nsmap={"d": DAV_NS})
    for href, size, mtime in entries:
        response = etree.SubElement(root, f"{{{DAV_NS}}}response")
        etree.SubElement(response, f"{{{DAV_NS}}}href").text = quote(href)
        propstat = etree.SubElement(response, f"{{{DAV_NS}}}propstat")
        prop = etree.SubElement(propstat, f"{{{DAV_NS}}}prop")
        kind = etree.SubElement(prop, f"{{{DAV_NS}}}resourcetype")
        if size is None:
            etree.SubElement(kind, f"{{{DAV_NS}}}collection")
        else:
            etree.SubElement(prop, f"{{{DAV_NS}}}getcontentlength").text = str(size)
        etree.SubElement(prop, f"{{{DAV_NS}}}getlastmodified").text = formatdate(
            mtime, usegmt=True
        )
        etree.SubElement(propstat, f"{{{DAV_NS}}}status").text = "HTTP/1.1 200 OK"
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


SHARES = ("/remote.php/dav/uploads", "/dav/uploads")


def mount(dav_app: Any, grove: Grove) -> None:
    """Serve the chunked upload folders beside the file layouts."""
    for share in SHARES:
        dav_app.add_provider(share, UploadsProvider(grove))
