"""WsgiDAV's lock storage interface over Grove's database locks (app.locks).

WsgiDAV's LockManager checks and grants under a per-process lock only; the
core re-checks each grant inside its write transaction, so exclusivity also
holds across gunicorn workers and nodes. Lock roots are the canonical
``/<space-id>/<path>`` that every URL layout's resources report as ref URL.
"""

from __future__ import annotations

from typing import Any

from wsgidav import util
from wsgidav.dav_error import (
    HTTP_LOCKED,
    DAVError,
    DAVErrorCondition,
    PRECONDITION_CODE_LockConflict,
)
from wsgidav.lock_man.lock_manager import LockManager

from app import locks
from app.models import Space


def lock_url(space: Space, parts: list[str]) -> str:
    """The canonical ref URL of an item: one key for every URL layout."""
    return str(util.quote(("/" + str(space.id) + "/" + "/".join(parts)).rstrip("/")))


def _as_dict(lock: locks.LockInfo) -> dict[str, Any]:
    return {
        "token": lock.token,
        "root": lock.root,
        "scope": lock.scope,
        "depth": lock.depth,
        "type": "write",
        # WsgiDAV keeps the owner as serialised XML bytes.
        "owner": lock.owner.encode(),
        "principal": lock.principal,
        "timeout": lock.timeout,
        "expire": lock.expire,
    }


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value or ""


class DatabaseLockStorage:
    """The storage object that WsgiDAV's LockManager is built on."""

    def __init__(self, timeout_max: int) -> None:
        self.timeout_max = timeout_max

    def __repr__(self) -> str:
        return "DatabaseLockStorage()"

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def cleanup(self) -> None:
        locks.purge_expired()

    def clear(self) -> None:
        locks.clear()

    def _timeout(self, requested: float | None) -> float:
        # WsgiDAV passes -1 for "Infinite"; every lock gets a finite lifetime.
        if requested is None or requested <= 0 or requested > self.timeout_max:
            return float(self.timeout_max)
        return float(requested)

    def get(self, token: str) -> dict[str, Any] | None:
        lock = locks.get(token)
        return _as_dict(lock) if lock else None

    def create(self, path: str, lock: dict[str, Any]) -> dict[str, Any]:
        try:
            granted = locks.grant(
                path,
                scope=lock["scope"],
                depth=lock["depth"],
                owner=_text(lock.get("owner")),
                principal=lock.get("principal") or "",
                timeout=self._timeout(lock.get("timeout")),
            )
        except locks.LockConflict as error:
            # Another worker granted a conflicting lock since LockManager looked.
            condition = DAVErrorCondition(PRECONDITION_CODE_LockConflict)
            for root in error.roots:
                condition.add_href(root)
            raise DAVError(HTTP_LOCKED, err_condition=condition) from error
        lock.update(_as_dict(granted))
        return lock

    def refresh(self, token: str, *, timeout: float | None) -> dict[str, Any]:
        lock = locks.refresh(token, self._timeout(timeout))
        if lock is None:
            raise ValueError(f"no live lock {token!r}")
        return _as_dict(lock)

    def delete(self, token: str) -> bool:
        return locks.release(token)

    def get_lock_list(
        self, path: str, *, include_root: bool, include_children: bool, token_only: bool
    ) -> list[Any]:
        found = locks.on(path, include_root=include_root, below=include_children)
        return [lock.token if token_only else _as_dict(lock) for lock in found]


class GroveLockManager(LockManager):
    """WsgiDAV's lock manager with its write check answered by one query.

    The library asks the storage for the locks of the URL and then of each
    ancestor in turn, a query each, and a PUT or MOVE checks two or three
    times: 8 to 12 queries a request. The answer is the library's: the same
    conflicts, named in the same order.
    """

    def _get_write_conflicts(
        self, url: str, depth: str, token_list: list[str], principal: str
    ) -> DAVErrorCondition:
        condition = DAVErrorCondition(PRECONDITION_CODE_LockConflict)
        roots = locks.lineage(url)
        found = locks.covering(url, below=depth == "infinity")
        for root in roots:
            for lock in found:
                if lock.root != root:
                    continue
                if root != roots[0] and lock.depth != "infinity":
                    continue  # a parent's lock covers it only with Depth: infinity
                if lock.principal == principal and lock.token in token_list:
                    continue  # the caller's own lock, and its token was sent
                condition.add_href(lock.root)
        # Locks below a Depth: infinity target conflict even if they are the
        # caller's (as in the library).
        for lock in found:
            if lock.root not in roots:
                condition.add_href(lock.root)
        return condition
