"""What the upload doors share: admission before the body, and the landing.

Every door (WebDAV PUT, chunked upload NG, TUS) asks :func:`admit` before
bytes arrive, so what the name and the announced length already break (the
pipeline's policy checks, the space's quota) is refused at once. Chunked
uploads (MOVE of ``.file``) and TUS uploads name their target by a URL of one
of the WebDAV layouts: :func:`resolve` finds it with the layout's provider
(so the permission function decides, as for a PUT), and :func:`land` commits
through :meth:`app.storage.upload.Upload.commit`, the pipeline's one run.
"""

from __future__ import annotations

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
from wsgidav.dav_provider import DAVProvider

from app import acl, forwarded, pipeline, spaces
from app.errors import (
    ContentRefused,
    PreconditionFailed,
    TooLarge,
    UnsupportedType,
)
from app.instance import Grove
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
    def replacing(self) -> int:
        """Bytes of the content the upload replaces (0 for a new file)."""
        return self.existing.item.size if self.existing is not None else 0

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


def origin(
    environ: dict[str, Any], door: str, checksum: str | None = None
) -> pipeline.Origin:
    """Who sends an upload through ``door``, for the pipeline and the audit trail."""
    caller = environ.get("grove.principal")
    return pipeline.Origin(
        actor=caller.name if caller else "",
        address=environ.get("REMOTE_ADDR", ""),
        door=door,
        checksum=checksum,
    )


def admit(
    grove: Grove,
    environ: dict[str, Any],
    folder: Item,
    name: str,
    *,
    length: int | None,
    replacing: int,
    door: str,
) -> None:
    """Refuse, before the body, an upload that policy or quota already refuse.

    The pipeline's name, extension and size rules (audited as refusals), then
    the space's quota for the announced ``length`` less the ``replacing``
    bytes. The commit checks all of it again on the content itself.
    """
    where = f"/{folder.tree.space.id}/{'/'.join([*folder.parts, name])}"
    steps = pipeline.for_state_dir(grove.settings.state_dir)
    with translated():
        steps.precheck(
            name,
            length,
            origin(environ, door),
            where,
            space=folder.tree.space,
            replacing=replacing,
        )


def refused_for_good(error: DAVError) -> bool:
    """Whether the pipeline refused the content itself: sending it again fails."""
    return isinstance(error.__cause__, ContentRefused | TooLarge | UnsupportedType)


def land(
    environ: dict[str, Any],
    target: Target,
    upload: Upload,
    *,
    mtime: float | None,
    etags: list[str] | None,
    token_list: list[str],
    checksum: str | None,
    door: str,
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

    with lock_manager.write_transaction(
        url=ref_url, token_list=token_list, principal=principal
    ):
        with translated():
            item = upload.commit(
                target.folder.item,
                target.name,
                precondition=check,
                mtime=mtime,
                origin=origin(environ, door, checksum),
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


class DoorProvider(DAVProvider):
    """A share that an upload door's own request server serves alone
    (``request_server``): no resources and no locks of its own."""

    def __init__(self, grove: Grove) -> None:
        super().__init__()
        self.grove = grove

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def is_readonly(self) -> bool:
        return False

    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
        return None

    def lock_url(self, path: str, environ: dict[str, Any]) -> str | None:
        return None
