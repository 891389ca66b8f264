"""WsgiDAV resources for Grove items: they parse, ask the core, and answer."""

from __future__ import annotations

import calendar
import io
import mimetypes
import shutil
from email.utils import formatdate, parsedate_tz
from typing import Any

from lxml import etree
from wsgidav import util
from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_FORBIDDEN,
    HTTP_LOCKED,
    HTTP_NOT_FOUND,
    DAVError,
)
from wsgidav.dav_provider import DAVCollection, DAVNonCollection

from app import acl, audit, favorites, filebody, forwarded, pipeline, quota
from app.models import Grant
from app.perms import VISIBLE
from app.storage import changes, props, trash
from app.storage.names import check_new_name, xml_safe
from app.storage.tree import Item
from app.storage.upload import Upload, require_absent_or_match
from dav import properties
from dav.errors import translated
from dav.locks import lock_url

BLOCK_SIZE = 1024 * 1024


class GroveResourceMixin:
    """What files and folders share: identity, properties, moves and deletes."""

    item: Item
    perms: acl.Perm
    provider: Any
    environ: dict[str, Any]
    path: str
    is_collection: bool
    # The share or public link the caller reached the item through, and
    # whether it is the shared item itself (a jail mount, a link's root).
    grant: Grant | None = None
    mount: bool = False

    @property
    def shared(self) -> bool:
        """Reached through a share with the caller (a link is not)."""
        return self.grant is not None and self.grant.grantee_type != "link"

    def letters(self) -> str:
        """``oc:permissions`` for the caller."""
        return acl.oc_letters(
            self.perms, is_dir=self.is_collection, shared=self.shared, mount=self.mount
        )

    def require(self, perm: acl.Perm) -> None:
        if perm not in self.perms:
            raise DAVError(HTTP_FORBIDDEN, f"not permitted here: {perm.name}")

    def audit(self, action: str, target: str, outcome: str = "ok") -> None:
        principal = self.environ.get("grove.principal")
        audit.record(
            action,
            actor=principal.name if principal else "",
            address=self.environ.get("REMOTE_ADDR", ""),
            target=target,
            outcome=outcome,
        )

    @property
    def canonical(self) -> str:
        return "/" + str(self.item.tree.space.id) + "/" + "/".join(self.item.parts)

    # --- identity -------------------------------------------------------------

    def get_ref_url(self) -> str:
        # One key per item whatever URL layout the client used (locks).
        return lock_url(self.item.tree.space, self.item.parts)

    def get_href(self) -> str:
        # Behind a proxy that mounts Grove below a path (X-Forwarded-Prefix).
        href: str = super().get_href()  # type: ignore[misc]
        return self.environ.get(forwarded.PREFIX_KEY, "") + href

    def get_etag(self) -> str:
        return self.item.etag

    def support_etag(self) -> bool:
        return True

    def get_last_modified(self) -> float:
        return self.item.st.st_mtime

    def get_creation_date(self) -> float:
        return self.item.st.st_ctime

    def get_display_name(self) -> str | None:
        name = self.item.name or str(self.item.tree.space.name)
        return name if xml_safe(name) else None

    # --- properties -----------------------------------------------------------

    def _dead(self) -> dict[str, str]:
        # Loaded once per resource: PROPFIND and PROPPATCH ask per property.
        cached: dict[str, str] | None = self.__dict__.get("_dead_cache")
        if cached is None:
            cached = props.load(self.item.path, self.item.id)
            self.__dict__["_dead_cache"] = cached
        return cached

    def get_property_names(self, *, is_allprop: bool) -> list[str]:
        names: list[str] = super().get_property_names(is_allprop=is_allprop)  # type: ignore[misc]
        return names + [name for name in self._dead() if name not in names]

    def get_property_value(self, name: str) -> Any:
        if name == "{DAV:}getetag":
            return f'"{self.item.etag}"'
        if name == properties.WIN32_MTIME:
            return formatdate(self.item.st.st_mtime, usegmt=True)
        if name == properties.PERMISSIONS:
            return self.letters()
        if name == properties.FAVORITE:
            user_id = self._user_id()
            marked = user_id and favorites.among(user_id, [self.item.id])
            return "1" if marked else "0"
        if name in properties.LIVE:
            try:
                value = properties.live_value(name, self.item, self.perms)
            except LookupError:
                raise DAVError(HTTP_NOT_FOUND) from None
            if isinstance(value, str) and not xml_safe(value):
                # A name from disk that XML 1.0 cannot carry: the href has it.
                raise DAVError(HTTP_NOT_FOUND)
            return value
        if name.startswith("{DAV:}"):
            return super().get_property_value(name)  # type: ignore[misc]
        value = self._dead().get(name)
        if value is None:
            raise DAVError(HTTP_NOT_FOUND)
        return etree.fromstring(value.encode())

    def set_property_value(
        self, name: str, value: Any, *, dry_run: bool = False
    ) -> bool:
        if name == properties.FAVORITE:
            return self._set_favorite(value, dry_run=dry_run)
        if name.startswith("{DAV:}") or name in properties.LIVE:
            return super().set_property_value(name, value, dry_run=dry_run)  # type: ignore[misc]
        self.require(acl.Perm.WRITE if not self.is_collection else acl.Perm.CREATE)
        if name == properties.WIN32_MTIME:
            # It is the file's mtime, not a stored text that later writes
            # would leave stale; removing it changes nothing.
            mtime = _http_date(value.text or "") if value is not None else None
            if mtime is not None:
                with translated():
                    changes.check_mtime(mtime)
                    if not dry_run:
                        changes.set_mtime(self.item, mtime)
            return True
        # WsgiDAV tries every property of a PROPPATCH (dry run) before it sets
        # any: the trial set accumulates, so the limits see the whole update.
        key = "_dead_trial" if dry_run else "_dead_cache"
        candidate = dict(self.__dict__.get(key) or self._dead())
        if value is None:
            candidate.pop(name, None)
        else:
            candidate[name] = etree.tostring(value, encoding="unicode")
        with translated():
            props.check_limits(candidate)
        if dry_run:
            self.__dict__["_dead_trial"] = candidate
            return True
        props.save(self.item.path, self.item.id, candidate)
        self.__dict__["_dead_cache"] = candidate
        return True

    def _user_id(self) -> str | None:
        principal = self.environ.get("grove.principal")
        return getattr(principal, "user_id", None) or None

    def _set_favorite(self, value: Any, *, dry_run: bool) -> bool:
        """``oc:favorite`` 1 or 0 (removing it is 0): the caller's own mark."""
        principal = self.environ.get("grove.principal")
        user_id = self._user_id()
        if user_id is None or principal is None or principal.read_only:
            # A public link is nobody's account; a read-only token changes nothing.
            raise DAVError(HTTP_FORBIDDEN, "only a signed-in user marks favourites")
        text = "0" if value is None else (value.text or "").strip()
        if text not in ("0", "1"):
            raise DAVError(HTTP_BAD_REQUEST, f"oc:favorite must be 0 or 1: {text!r}")
        if not dry_run:
            favorites.set_favorite(user_id, self.item.id, text == "1")
        return True

    def get_used_bytes(self) -> int | None:
        return self.item.size if self.is_collection else None

    def get_available_bytes(self) -> int | None:
        if not self.is_collection:
            return None
        free = shutil.disk_usage(self.item.path).free
        return quota.available(self.item.tree.space, free)

    # --- changes --------------------------------------------------------------

    def support_recursive_delete(self) -> bool:
        return True

    def delete(self) -> None:
        self.require(acl.Perm.DELETE)
        principal = self.environ.get("grove.principal")
        # Deleting moves to the space's trash (restore and purge: dav/trash.py).
        state_dir = self.provider.grove.settings.state_dir
        with translated():
            trash.trash(
                self.item, state_dir, actor_id=principal.user_id if principal else ""
            )
        self.audit("file_delete", self.canonical)
        self.provider.lock_manager.remove_all_locks_from_url(
            self.get_ref_url(), recursive=True
        )

    def handle_delete(self) -> bool | list[tuple[str, DAVError]]:
        self.require(acl.Perm.DELETE)
        locked = self._locked_hrefs()
        if locked:
            # RFC 4918 9.6.1: a locked member and all its ancestors stay, and
            # the answer names the member.
            return [(href, DAVError(HTTP_LOCKED)) for href in locked]
        self.delete()
        return True

    def _locked_hrefs(self) -> list[str]:
        """Hrefs of the locks on this item or below that the request does not hold."""
        tokens = self.environ.get("wsgidav.ifLockTokenList") or []
        principal = self.environ.get("wsgidav.user_name")
        own = self.get_ref_url()
        found = self.provider.lock_manager.get_url_lock_list(own, recursive=True)
        roots = {
            lock["root"]
            for lock in found
            if not (lock["token"] in tokens and lock["principal"] == principal)
        }
        if own in roots:
            return [self.get_href()]
        return sorted(
            self.provider.href_for_ref_url(root, self.environ) for root in roots
        )

    def _crosses_share(self, folder: Any) -> bool:
        """Whether a move leaves or enters a share's space for another space.

        Such a move is a copy and a delete (RFC 4918 9.9: a MOVE is logically
        a COPY then a DELETE): the result belongs to the destination's space
        with new ids, and the share's owner keeps no stale grant on it.
        """
        if self.grant is None and folder.grant is None:
            return False
        return bool(folder.item.tree.space.id != self.item.tree.space.id)

    def support_recursive_move(self, dest_path: str) -> bool:
        folder, _, _ = self.provider.destination(dest_path, self.environ)
        return not self._crosses_share(folder)

    def handle_move(self, dest_path: str) -> bool:
        self.require(acl.Perm.RENAME)
        folder, name, existing = self.provider.destination(dest_path, self.environ)
        self._keep_denied_inside(folder)
        if self._crosses_share(folder):
            self.require(acl.Perm.READ)
            self.require(acl.Perm.DELETE)
            return False
        if existing is not None:
            existing.require(acl.Perm.DELETE)
            existing.delete()
        else:
            self.environ["grove.created"] = True
        with translated():
            moved = changes.move(self.item, folder.item, name)
        self.provider.lock_manager.remove_all_locks_from_url(
            self.get_ref_url(), recursive=True
        )
        self.audit(
            "file.move",
            f"{self.canonical} -> /{moved.tree.space.id}/{'/'.join(moved.parts)}",
        )
        return True

    def _keep_denied_inside(self, folder: Any) -> None:
        """Refuse to move a folder to another space when a Denied folder lies
        inside it for the caller: in the other space the denial would not hold."""
        space = self.item.tree.space
        if folder.item.tree.space.id == space.id or not self.is_collection:
            return
        principal = self.environ.get("grove.principal")
        memo = acl.request_memo(self.environ)
        if acl.hides_below(principal, space, self.item.parts, memo):
            raise DAVError(
                HTTP_FORBIDDEN,
                f"{self.item.name!r} holds a folder you may not reach: "
                "it stays in its space",
            )

    def copy_move_single(self, dest_path: str, *, is_move: bool) -> None:
        # Moves come here only when they cross a share (see handle_move).
        self.require(acl.Perm.READ)
        if is_move:
            self.require(acl.Perm.DELETE)
        folder, name, existing = self.provider.destination(dest_path, self.environ)
        if existing is not None and not (existing.is_collection and self.is_collection):
            existing.require(acl.Perm.DELETE)
            existing.delete()
            existing = None
        with translated():
            if self.is_collection:
                if existing is None:
                    changes.copy_folder_shell(self.item, folder.item, name)
            else:
                staging = self.provider.grove.staging_dir
                changes.copy_file(self.item, folder.item, name, staging)
        self.audit("file.copy", f"{self.canonical} -> {dest_path}")

    def handle_copy(self, dest_path: str, *, depth_infinity: bool) -> bool:
        if self.is_collection:
            return False
        _, _, existing = self.provider.destination(dest_path, self.environ)
        if existing is None or existing.is_collection:
            return False  # the library's copy (a folder's goes to the trash)
        self._copy_over(existing, dest_path)
        return True

    def _copy_over(self, existing: Any, dest_path: str) -> None:
        """A file copied onto a file overwrites it: the target keeps its id
        and its previous content becomes a version, as with a PUT."""
        self.require(acl.Perm.READ)
        existing.require(acl.Perm.WRITE)
        principal = self.environ.get("grove.principal")
        origin = pipeline.Origin(
            actor=principal.name if principal else "",
            address=self.environ.get("REMOTE_ADDR", ""),
            door="copy",
        )
        grove = self.provider.grove
        with translated():
            changes.copy_over(
                self.item,
                existing.item,
                grove.staging_dir,
                durable=grove.settings.durability == "fsync",
                origin=origin,
            )
        self.audit("file.copy", f"{self.canonical} -> {dest_path}")


def _http_date(text: str) -> float:
    parsed = parsedate_tz(text)
    if parsed is None:
        raise DAVError(HTTP_BAD_REQUEST, f"not an HTTP date: {text!r}")
    return float(calendar.timegm(parsed[:9]) - (parsed[9] or 0))


class FileResource(GroveResourceMixin, DAVNonCollection):
    def __init__(
        self, path: str, environ: dict[str, Any], item: Item, perms: acl.Perm
    ) -> None:
        super().__init__(path, environ)
        self.item = item
        self.perms = perms

    def get_content_length(self) -> int:
        return self.item.st.st_size

    def get_content_type(self) -> str:
        if self.item.mime:  # detected from the content by the upload pipeline
            return self.item.mime
        guessed = mimetypes.guess_type(self.item.name)[0]
        return guessed or "application/octet-stream"

    def support_ranges(self) -> bool:
        return True

    def get_content(self) -> Any:
        try:
            file = open(self.item.path, "rb", buffering=BLOCK_SIZE)  # noqa: SIM115
        except PermissionError as error:
            # Another program wrote it with a mode or owner that keeps Grove out.
            raise DAVError(
                HTTP_FORBIDDEN,
                "Grove cannot read this file on disk (permission denied); "
                "ask the administrator to fix its owner or mode",
            ) from error
        self.audit("file_read", self.canonical)
        if filebody.hand_over(self.environ, file):
            # The dispatcher returns the file to the server (zero-copy GET):
            # the library sends this empty body up through its layers.
            return io.BytesIO()
        return file

    def begin_write(self, *, content_type: str | None = None) -> Any:
        raise AssertionError("PUT is handled by GroveRequestServer.do_PUT")


class FolderResource(GroveResourceMixin, DAVCollection):
    def __init__(
        self, path: str, environ: dict[str, Any], item: Item, perms: acl.Perm
    ) -> None:
        super().__init__(path, environ)
        self.item = item
        self.perms = perms
        self._members: list[GroveResourceMixin] | None = None

    def get_member_names(self) -> list[str]:
        return [member.item.name for member in self.get_member_list()]

    def get_member_list(self) -> list[Any]:
        if self._members is None:
            with translated():
                children = self.item.tree.children(self.item)
            base = self.path.rstrip("/")
            members = [
                self.provider.resource_for(
                    f"{base}/{child.name}", self.environ, child, grant=self.grant
                )
                for child in children
            ]
            # Only what the caller may see, and nothing in a file drop.
            listed = self.perms & (acl.Perm.READ | acl.Perm.LIST)
            self._members = [m for m in members if listed and m.perms & VISIBLE]
        return self._members

    def get_member(self, name: str) -> Any:
        for member in self.get_member_list():
            if member.item.name == name:
                return member
        return None

    def create_empty_resource(self, name: str) -> Any:
        # Only LOCK on an unmapped URL comes here (RFC 4918 9.10.4; davfs2 does
        # it before every new file): PUT has its own path in GroveRequestServer.
        self.require(acl.Perm.CREATE)
        with translated():
            name = check_new_name(name)
        self.provider.lock_manager.check_write_permission(
            url=self.get_ref_url().rstrip("/") + "/" + util.quote(name),
            depth="0",
            token_list=self.environ.get("wsgidav.ifLockTokenList", []),
            principal=self.environ.get("wsgidav.user_name"),
        )
        grove = self.provider.grove
        upload = Upload(grove.staging_dir, durable=grove.settings.durability == "fsync")
        try:
            with translated():
                absent = require_absent_or_match(None)
                item = upload.commit(self.item, name, precondition=absent)
        finally:
            upload.abort()
        self.audit("file.create", f"/{item.tree.space.id}/{'/'.join(item.parts)}")
        # GroveRequestServer.do_LOCK removes it again if the LOCK is refused.
        self.environ["grove.made_for_lock"] = item
        path = f"{self.path.rstrip('/')}/{name}"
        return self.provider.resource_for(path, self.environ, item)

    def create_collection(self, name: str) -> None:
        self.require(acl.Perm.CREATE)
        with translated():
            folder = changes.make_folder(self.item, check_new_name(name))
        self.audit("folder.create", f"/{folder.tree.space.id}/{'/'.join(folder.parts)}")
