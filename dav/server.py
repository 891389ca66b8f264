"""Grove's WsgiDAV request server: the methods where the library's defaults fall short.

- PUT streams into a staging file and commits by rename (the library would
  create an empty file before the body arrives), verifying OC-Checksum and
  honouring X-OC-Mtime and If-Match under the commit lock.
- Request bodies that carry XML are size-limited and refused with 400 when
  they declare a DOCTYPE, before any handler acts on them.
- Depth: infinity PROPFIND is answered only for subtrees up to a limit.
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from lxml import etree
from wsgidav import util
from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_CREATED,
    HTTP_FORBIDDEN,
    HTTP_METHOD_NOT_ALLOWED,
    HTTP_NO_CONTENT,
    HTTP_NOT_IMPLEMENTED,
    HTTP_PRECONDITION_FAILED,
    HTTP_RANGE_NOT_SATISFIABLE,
    HTTP_REQUEST_ENTITY_TOO_LARGE,
    DAVError,
    PRECONDITION_CODE_PropfindFiniteDepth,
)
from wsgidav.request_server import RequestServer

from app import acl, forwarded
from app.errors import PreconditionFailed
from app.storage import changes
from app.storage.names import check_new_name
from app.storage.paths import check_destination
from app.storage.tree import Item
from app.storage.upload import Upload
from dav import doors, favorites, propfind, report, tus
from dav.errors import translated
from dav.resources import FolderResource

logger = logging.getLogger(__name__)

# Methods whose body, if any, is XML. MOVE and COPY may carry RFC 2518's
# propertybehavior, which the library reads whole into memory and ignores.
XML_METHODS = {
    "PROPFIND",
    "PROPPATCH",
    "LOCK",
    "UNLOCK",
    "REPORT",
    "SEARCH",
    "MOVE",
    "COPY",
}
READ_BLOCK = 1024 * 1024
_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


def _read_limited(environ: dict[str, Any], limit: int) -> bytes:
    length = environ.get("CONTENT_LENGTH", "").strip()
    stream = environ["wsgi.input"]
    if length:
        if not length.isdigit():
            raise DAVError(HTTP_BAD_REQUEST, f"invalid Content-Length {length!r}")
        if int(length) > limit:
            raise DAVError(
                HTTP_REQUEST_ENTITY_TOO_LARGE, f"XML body over {limit} bytes"
            )
        return bytes(stream.read(int(length)))
    if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return b""
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise DAVError(HTTP_REQUEST_ENTITY_TOO_LARGE, f"XML body over {limit} bytes")
    return bytes(body)


def guard_xml_body(environ: dict[str, Any], limit: int) -> None:
    """Read and vet an XML request body, then hand the library a fresh stream."""
    body = _read_limited(environ, limit)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    if not body.strip():
        return
    try:
        root = etree.fromstring(body, parser=_XML_PARSER)
    except etree.XMLSyntaxError as error:
        raise DAVError(HTTP_BAD_REQUEST, f"malformed XML body: {error}") from None
    if root.getroottree().docinfo.doctype or b"<!DOCTYPE" in body.upper():
        raise DAVError(HTTP_BAD_REQUEST, "XML bodies with a DOCTYPE are refused")


def _if_by_lock_url(environ: dict[str, Any]) -> dict[str, Any] | None:
    """The parsed If header with its tagged lists keyed by lock URL.

    A tag names a resource by its URL in some layout; keyed by the canonical
    lock URL, the list applies to that resource whichever layout the request
    used (RFC 4918 10.4.3). Tags that name nothing here match nothing.
    """
    parsed: dict[str, list[Any]] | None = environ["wsgidav.conditions.if"]
    if not parsed:
        return parsed
    keyed: dict[str, list[Any]] = {}
    for tag, lists in parsed.items():
        key = tag if tag == "*" else (_tag_lock_url(tag, environ) or tag)
        keyed.setdefault(key, []).extend(lists)
    return keyed


def _tag_lock_url(tag: str, environ: dict[str, Any]) -> str | None:
    path = unquote(urlsplit(tag).path)
    proxy_prefix = environ.get(forwarded.PREFIX_KEY, "")
    if proxy_prefix and path.startswith(proxy_prefix + "/"):
        path = path[len(proxy_prefix) :]
    providers = environ["wsgidav.config"]["provider_mapping"].values()
    prefixes = sorted(
        ((p.mount_path + p.share_path, p) for p in providers), reverse=True
    )
    for prefix, provider in prefixes:
        if path.startswith(prefix + "/"):
            return str(provider.lock_url(path[len(prefix) :], environ))
    return None


def _etag_list(value: str) -> list[str]:
    return [tag.strip().removeprefix("W/").strip('"') for tag in value.split(",")]


def _mtime_header(environ: dict[str, Any]) -> float | None:
    value = environ.get("HTTP_X_OC_MTIME")
    if value is None:
        return None
    if not re.fullmatch(r"\d{1,12}(\.\d{1,9})?", value.strip()):
        raise DAVError(HTTP_BAD_REQUEST, f"invalid X-OC-Mtime {value!r}")
    with translated():
        return changes.check_mtime(float(value))


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def clean_range(environ: dict[str, Any]) -> None:
    """Keep a Range header only when WsgiDAV will answer it right (RFC 9110 14.2).

    WsgiDAV serves the last of several ranges, and reads a reversed range or
    ``-0`` as something to send. Grove sends the whole file for several
    ranges or one it cannot parse (a server may ignore Range), and 416 for a
    suffix of zero bytes.
    """
    value = environ.get("HTTP_RANGE")
    if value is None:
        return
    match = _RANGE.fullmatch(value.replace(" ", ""))
    if match is None or match.groups() == ("", ""):
        del environ["HTTP_RANGE"]
        return
    first, last = match.groups()
    if first and last and int(first) > int(last):
        del environ["HTTP_RANGE"]
    elif not first and int(last) == 0:
        raise DAVError(HTTP_RANGE_NOT_SATISFIABLE, "a range of zero bytes")


def _precondition(environ: dict[str, Any]) -> Any:
    """Check If-Match / If-None-Match against the item found at commit time."""
    if_match = environ.get("HTTP_IF_MATCH")
    if_none = environ.get("HTTP_IF_NONE_MATCH")

    def check(existing: Item | None) -> None:
        if if_match is not None:
            tags = _etag_list(if_match)
            if existing is None or ("*" not in tags and existing.etag not in tags):
                raise PreconditionFailed("If-Match does not match the current content")
        if if_none is not None and existing is not None:
            tags = _etag_list(if_none)
            if "*" in tags or existing.etag in tags:
                raise PreconditionFailed("If-None-Match matches the current content")

    return check


def _strip_prefix(environ: dict[str, Any]) -> None:
    """A Destination names the proxy's path; the library expects Grove's own."""
    prefix = environ.get(forwarded.PREFIX_KEY)
    if not prefix:
        return
    parsed = urlsplit(environ["HTTP_DESTINATION"])
    if parsed.path.startswith(prefix + "/"):
        environ["HTTP_DESTINATION"] = urlunsplit(
            parsed._replace(path=parsed.path[len(prefix) :])
        )


class GroveRequestServer(RequestServer):
    def __init__(self, provider: Any) -> None:
        super().__init__(provider)
        # WsgiDAV dispatches only the methods it knows; REPORT is Grove's.
        self._possible_methods.append("REPORT")
        self.grove = provider.grove
        settings = self.grove.settings
        self.allow_propfind_infinite = settings.propfind_infinity != "off"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] in XML_METHODS:
            guard_xml_body(environ, self.grove.settings.max_xml_body_bytes)
        if "HTTP_DESTINATION" in environ:
            # Before the library unquotes it and resolves "..".
            with translated():
                check_destination(environ["HTTP_DESTINATION"])
            _strip_prefix(environ)
            self._destination_in_own_layout(environ)
        if "HTTP_IF" in environ:
            util.parse_if_header_dict(environ)
            environ["wsgidav.conditions.if"] = _if_by_lock_url(environ)
        return self._lock_hrefs_for_client(
            environ, super().__call__(environ, start_response)
        )

    def _destination_in_own_layout(self, environ: dict[str, Any]) -> None:
        """Rewrite a Destination given in another URL layout into this request's.

        All layouts name the same files, but WsgiDAV moves and copies only
        within one share (another answers 502). A destination that is not in
        the caller's reach through this layout is left as it is.
        """
        parsed = urlsplit(environ["HTTP_DESTINATION"])
        path = unquote(parsed.path)
        provider = self._davProvider
        app = environ["wsgidav.app"]
        share, other = app.resolve_provider(path)
        if other is None or other is provider or not hasattr(other, "locate"):
            return
        located = other.locate(path[len(share) :], environ)
        if located is None:
            return
        space, parts = located
        mine = provider.locate(provider.prefix(space), environ)
        if mine is None or mine[0].id != space.id:
            return
        target = provider.mount_path + provider.share_path + provider.prefix(space)
        target += "/" + "/".join(parts) + ("/" if path.endswith("/") else "")
        environ["HTTP_DESTINATION"] = urlunsplit(
            (parsed.scheme, parsed.netloc, util.quote(target), "", "")
        )

    def _lock_hrefs_for_client(
        self, environ: dict[str, Any], body: Iterable[bytes]
    ) -> Iterator[bytes]:
        """Name conflicting locks by their URL in the request's layout (423 bodies)."""
        try:
            yield from body
        except DAVError as error:
            condition = error.err_condition
            if condition is not None:
                provider = self._davProvider
                condition.hrefs = [
                    provider.href_for_ref_url(h, environ) for h in condition.hrefs
                ]
            raise

    def _evaluate_if_new(
        self, parent: FolderResource, ref_url: str, environ: dict[str, Any]
    ) -> None:
        """The If header on a URL that does not exist yet (PUT of a new file).

        Its state tokens are those of the locks that would cover it (RFC 4918
        10.4.4); no entity tag matches it.
        """
        if "HTTP_IF" not in environ:
            return
        covering = self._davProvider.lock_manager.get_indirect_url_lock_list(
            ref_url, principal=environ["wsgidav.user_name"]
        )
        tokens = [lock["token"] for lock in covering]
        # The library asks the resource only whether it supports entity tags.
        if not util.test_if_header_dict(
            parent, environ["wsgidav.conditions.if"], ref_url, tokens, ""
        ):
            raise DAVError(HTTP_PRECONDITION_FAILED, "'If' header condition failed")

    def _require_change(self, environ: dict[str, Any]) -> None:
        """Refuse with 403 unless the caller may change the existing target."""
        res = self._davProvider.get_resource_inst(environ["PATH_INFO"], environ)
        if res is not None:
            res.require(acl.Perm.CREATE if res.is_collection else acl.Perm.WRITE)

    def do_PROPPATCH(self, environ: dict[str, Any], start_response: Any) -> Any:
        # Refused whole, not as a 207 with a 403 per property: a read-only
        # credential gets the same answer as for every other write. A user's
        # own favourite mark changes nothing of the item (dav/favorites.py).
        if not favorites.marks_only(environ):
            self._require_change(environ)
        return super().do_PROPPATCH(environ, start_response)

    def do_LOCK(self, environ: dict[str, Any], start_response: Any) -> Any:
        # A lock reserves the right to write: only who may write may take one
        # (the library would lock anything readable).
        self._require_change(environ)
        try:
            return super().do_LOCK(environ, start_response)
        except DAVError:
            made = environ.pop("grove.made_for_lock", None)
            if made is not None:
                # LOCK on an unmapped URL made an empty file, then was refused.
                with translated():
                    changes.delete(made)
            raise

    def _send_response(
        self,
        environ: Any,
        start_response: Any,
        root_res: Any,
        success_code: Any,
        error_list: Any,
    ) -> Any:
        if environ.pop("grove.created", False) and success_code == HTTP_NO_CONTENT:
            success_code = HTTP_CREATED
        return super()._send_response(
            environ, start_response, root_res, success_code, error_list
        )

    def _send_resource(
        self, environ: dict[str, Any], start_response: Any, **options: Any
    ) -> Any:
        clean_range(environ)
        # The provider refuses a download where the caller may only list.
        environ["grove.download"] = environ["PATH_INFO"]
        return super()._send_resource(environ, start_response, **options)

    def do_REPORT(self, environ: dict[str, Any], start_response: Any) -> Any:
        # WsgiDAV has none: one dispatch point for Grove's reports (dav/report.py).
        return report.answer(self, environ, start_response)

    def do_PROPFIND(self, environ: dict[str, Any], start_response: Any) -> Any:
        depth = environ.setdefault("HTTP_DEPTH", "infinity").lower()
        if depth == "infinity" and self.allow_propfind_infinite:
            res = self._davProvider.get_resource_inst(environ["PATH_INFO"], environ)
            limit = self.grove.settings.propfind_infinity_limit
            if (
                isinstance(res, FolderResource)
                and _count_members(res.item.path, limit) > limit
            ):
                raise DAVError(
                    HTTP_FORBIDDEN,
                    f"more than {limit} members: use Depth 1",
                    err_condition=PRECONDITION_CODE_PropfindFiniteDepth,
                )
        return propfind.answer(self, environ, start_response)

    def do_OPTIONS(self, environ: dict[str, Any], start_response: Any) -> Any:
        def with_tus(status: str, headers: Any, exc_info: Any = None) -> Any:
            # TUS clients learn here that they may POST uploads (dav/tus.py).
            return start_response(status, [*headers, *tus.OPTIONS_HEADERS], exc_info)

        return super().do_OPTIONS(environ, with_tus)

    def do_POST(self, environ: dict[str, Any], start_response: Any) -> Any:
        # The library has no POST; on a folder it creates a TUS upload.
        return tus.create(self, environ, start_response)

    def do_PUT(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ["PATH_INFO"]
        provider = self._davProvider
        if "HTTP_CONTENT_ENCODING" in environ:
            raise DAVError(
                HTTP_NOT_IMPLEMENTED, "Content-Encoding on PUT is not supported"
            )
        if "HTTP_CONTENT_RANGE" in environ:
            raise DAVError(HTTP_BAD_REQUEST, "Content-Range is not allowed on PUT")
        mtime = _mtime_header(environ)

        res = provider.get_resource_inst(path, environ)
        if res is not None and res.is_collection:
            raise DAVError(HTTP_METHOD_NOT_ALLOWED, "cannot PUT to a folder")
        parent = provider.parent_for_put(path, environ, res)
        if not isinstance(parent, FolderResource):
            raise DAVError(HTTP_CONFLICT, "the parent folder does not exist")
        if res is None:
            with translated():
                name = check_new_name(util.get_uri_name(path))
            parent.require(acl.Perm.CREATE)
            ref_url = parent.get_ref_url().rstrip("/") + "/" + util.quote(name)
        else:
            name = res.item.name
            res.require(acl.Perm.WRITE)
            ref_url = res.get_ref_url()
        if res is None and "HTTP_IF_MATCH" in environ:
            raise DAVError(HTTP_PRECONDITION_FAILED, "If-Match on a missing resource")
        self._evaluate_if_headers(res, environ)
        if res is None:
            self._evaluate_if_new(parent, ref_url, environ)
            # A new member changes the parent's membership (RFC 4918 7.4).
            self._check_write_permission(parent, "0", environ)
        length = environ.get("CONTENT_LENGTH", "").strip()
        doors.admit(
            self.grove,
            environ,
            parent.item,
            name,
            length=int(length) if length.isdigit() else None,
            replacing=res.item.size if res else 0,
            door="put",
        )

        with provider.lock_manager.write_transaction(
            url=ref_url,
            token_list=environ["wsgidav.ifLockTokenList"],
            principal=environ["wsgidav.user_name"],
        ):
            check = self._commit_check(environ, ref_url)
            item = self._receive(environ, parent.item, name, mtime, check)

        parent.audit(
            "file.update" if res else "file.create",
            f"/{item.tree.space.id}/{'/'.join(item.parts)}",
        )
        headers = doors.answer_headers(item, (res or parent).perms, mtime)
        status = HTTP_NO_CONTENT if res else HTTP_CREATED
        return util.send_status_response(
            environ, start_response, status, add_headers=headers
        )

    def _commit_check(self, environ: dict[str, Any], ref_url: str) -> Any:
        """What must still hold when the upload commits: preconditions and locks."""
        etags = _precondition(environ)
        lock_manager = self._davProvider.lock_manager

        def check(existing: Item | None) -> None:
            etags(existing)
            # Another worker may have granted a lock while the body streamed in.
            lock_manager.check_write_permission(
                url=ref_url,
                depth="0",
                token_list=environ["wsgidav.ifLockTokenList"],
                principal=environ["wsgidav.user_name"],
            )

        return check

    def _receive(
        self,
        environ: dict[str, Any],
        folder: Item,
        name: str,
        mtime: float | None,
        check: Any,
    ) -> Item:
        settings = self.grove.settings
        upload = Upload(self.grove.staging_dir, durable=settings.durability == "fsync")
        origin = doors.origin(environ, "put", environ.get("HTTP_OC_CHECKSUM"))
        try:
            with translated():
                for chunk in _body(environ):
                    upload.write(chunk)
                return upload.commit(
                    folder, name, precondition=check, mtime=mtime, origin=origin
                )
        finally:
            upload.abort()


def _read(stream: Any, size: int) -> bytes:
    """One block of the request body; a broken body is the client's fault."""
    try:
        return bytes(stream.read(size))
    except ValueError as error:  # cheroot: malformed chunked coding
        raise DAVError(HTTP_BAD_REQUEST, f"malformed request body: {error}") from None
    except (ConnectionError, TimeoutError) as error:
        logger.warning("client went away during the upload: %s", error)
        raise DAVError(HTTP_BAD_REQUEST, "the request body was cut off") from None


def _body(environ: dict[str, Any]) -> Iterable[bytes]:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH", "").strip()
    if length:
        if not length.isdigit():
            raise DAVError(HTTP_BAD_REQUEST, f"invalid Content-Length {length!r}")
        remaining = int(length)
        while remaining:
            chunk = _read(stream, min(READ_BLOCK, remaining))
            if not chunk:
                raise DAVError(HTTP_BAD_REQUEST, "the body ended before Content-Length")
            remaining -= len(chunk)
            yield chunk
        return
    if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return
    while chunk := _read(stream, READ_BLOCK):
        yield chunk


def _count_members(path: Any, limit: int) -> int:
    count = 0
    pending = [path]
    while pending and count <= limit:
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    count += 1
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
        except OSError:
            continue
    return count
