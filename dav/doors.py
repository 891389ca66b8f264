"""Where an upload from another door lands: a DAV URL, checked, then committed.

Chunked uploads (MOVE of ``.file``) and TUS uploads name their target by a
URL of one of the WebDAV layouts. This module resolves such a URL with the
layout's provider (so the permission function decides, as for a PUT), checks
preconditions and locks under the commit lock, and commits through
:meth:`app.storage.upload.Upload.commit`, the path every door shares.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from wsgidav import util
from wsgidav.dav_error import (
    HTTP_BAD_GATEWAY,
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_METHOD_NOT_ALLOWED,
    DAVError,
)

from app import acl, forwarded, spaces
from app.errors import PreconditionFailed
from app.storage.names import check_new_name
from app.storage.paths import check_destination
from app.storage.tree import Item
from app.storage.upload import Upload
from dav.errors import translated
from dav.resources import FolderResource, GroveResourceMixin


@dataclass
class Target:
    """A file URL in some layout: its folder, name and current resource."""

    provider: Any
    share: str
    path: str  # below the share
    folder: FolderResource
    name: str
    existing: GroveResourceMixin | None

    @property
    def ref_url(self) -> str:
        if self.existing is not None:
            return str(self.existing.get_ref_url())
        return self.folder.get_ref_url().rstrip("/") + "/" + util.quote(self.name)


def _latin1_to_utf8(value: str) -> str:
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def url_path(environ: dict[str, Any], url: str) -> str:
    """The path of a Destination-style URL (absolute or a path), Grove's own."""
    with translated():
        check_destination(url)
    parsed = urlsplit(_latin1_to_utf8(url))
    host = environ.get("HTTP_HOST", "").lower()
    if parsed.netloc and parsed.netloc.lower() not in (
        host,
        environ.get("HTTP_X_FORWARDED_HOST", "").lower(),
    ):
        raise DAVError(HTTP_BAD_GATEWAY, "the destination is on another server")
    path = unquote(parsed.path)
    prefix = environ.get(forwarded.PREFIX_KEY, "")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    return str(util.normalize_path(path))


def resolve(environ: dict[str, Any], path: str) -> Target:
    """The target of a file at ``path`` (a full URL path of any layout)."""
    share, provider = environ["wsgidav.app"].resolve_provider(path)
    if provider is None or not hasattr(provider, "locate"):
        raise DAVError(HTTP_BAD_GATEWAY, f"not a Grove file URL: {path!r}")
    below = path[len(share) :]
    return target_in(environ, provider, share, below)


def target_in(environ: dict[str, Any], provider: Any, share: str, below: str) -> Target:
    if below.endswith("/") or not below.strip("/"):
        raise DAVError(HTTP_BAD_REQUEST, "the target must name a file")
    parent = provider.get_resource_inst(util.get_uri_parent(below), environ)
    if not isinstance(parent, FolderResource):
        raise DAVError(HTTP_CONFLICT, "the target folder does not exist")
    with translated():
        name = check_new_name(util.get_uri_name(below))
    existing = provider.get_resource_inst(below, environ)
    if existing is not None and existing.is_collection:
        raise DAVError(HTTP_METHOD_NOT_ALLOWED, "the target is a folder")
    if existing is None:
        parent.require(acl.Perm.CREATE)
    else:
        existing.require(acl.Perm.WRITE)
    return Target(provider, share, below, parent, name, existing)


def etag_check(etags: list[str] | None) -> Callable[[Item | None], None]:
    """If-Match style: the current item must carry one of ``etags`` (``*``: any)."""

    def check(existing: Item | None) -> None:
        if etags is None:
            return
        if existing is None or ("*" not in etags and existing.etag not in etags):
            raise PreconditionFailed("the target changed since it was read")

    return check


def if_header_etags(environ: dict[str, Any], target: Target) -> list[str] | None:
    """Entity tags an ``If`` header asks of the target (``None``: no condition).

    Sync clients ask "replace only this version" of a chunked MOVE as
    ``If: <destination> (["etag"])``, since If-Match would apply to the source.
    """
    parsed = environ.get("wsgidav.conditions.if")
    if not parsed:
        return None
    tags: list[str] = []
    for tag, lists in parsed.items():
        if tag != "*" and not _same(environ, tag, target):
            continue
        for conditions in lists:
            tags += [
                value.removeprefix("W/").strip('"')
                for positive, kind, value in conditions
                if positive and kind == "entity"
            ]
    return tags or None


def _same(environ: dict[str, Any], tag: str, target: Target) -> bool:
    try:
        other = resolve(environ, url_path(environ, tag))
    except DAVError:
        return False
    return other.ref_url == target.ref_url


def land(
    environ: dict[str, Any],
    target: Target,
    upload: Upload,
    *,
    mtime: float | None,
    etags: list[str] | None,
    token_list: list[str],
    checksum: str | None = None,
    door: str = "",
) -> Item:
    """Verify and commit ``upload`` at ``target``; the committed item."""
    lock_manager = target.provider.lock_manager
    principal = environ.get("wsgidav.user_name", "")
    ref_url = target.ref_url
    matches = etag_check(etags)

    def check(existing: Item | None) -> None:
        matches(existing)
        lock_manager.check_write_permission(
            url=ref_url, depth="0", token_list=token_list, principal=principal
        )

    extra: dict[str, Any] = {}
    if "origin" in inspect.signature(upload.commit).parameters:
        # The pipeline's commit verifies the checksum among its steps.
        from app.pipeline import Origin

        caller = environ.get("grove.principal")
        extra["origin"] = Origin(
            actor=caller.name if caller else "",
            address=environ.get("REMOTE_ADDR", ""),
            door=door,
            checksum=checksum,
        )
    with lock_manager.write_transaction(
        url=ref_url, token_list=token_list, principal=principal
    ):
        with translated():
            if not extra:
                upload.verify(checksum)
            item = upload.commit(
                target.folder.item,
                target.name,
                precondition=check,
                mtime=mtime,
                **extra,
            )
    target.folder.audit(
        "file.update" if target.existing else "file.create",
        f"/{item.tree.space.id}/{'/'.join(item.parts)}",
    )
    return item


def answer_headers(
    item: Item, perms: acl.Perm, mtime: float | None
) -> list[tuple[str, str]]:
    """What sync clients read from the answer that completes an upload."""
    headers = [
        ("ETag", f'"{item.etag}"'),
        ("OC-ETag", f'"{item.etag}"'),
        ("OC-FileId", spaces.resource_id(item.tree.space, item.id)),
        ("OC-Perm", acl.oc_letters(perms, is_dir=False)),
    ]
    if mtime is not None:
        headers.append(("X-OC-Mtime", "accepted"))
    return headers
