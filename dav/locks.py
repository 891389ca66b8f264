"""WebDAV lock storage in the database, with exclusivity enforced there.

WsgiDAV's lock manager checks and grants under a per-process lock; this store
re-checks conflicts inside a write transaction so that the rule also holds
across gunicorn workers and nodes. Lock roots are canonical
``/<space-id>/<path>`` URLs, so every URL layout shares them.
"""

from __future__ import annotations

import time
from typing import Any

import peewee
from wsgidav.dav_error import HTTP_LOCKED, DAVError
from wsgidav.lock_man.lock_manager import generate_lock_token, normalize_lock_root

from app import db
from app.models import Lock


def _as_dict(row: Lock) -> dict[str, Any]:
    return {
        "token": row.token,
        "root": row.root,
        "scope": row.scope,
        "depth": row.depth,
        "type": row.type,
        # WsgiDAV keeps the owner as serialised XML bytes.
        "owner": row.owner.encode(),
        "principal": row.principal,
        "timeout": row.timeout,
        "expire": row.expire,
    }


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value or ""


def _below(root: str) -> Any:
    prefix = root.rstrip("/") + "/"
    return peewee.fn.SUBSTR(Lock.root, 1, len(prefix)) == prefix


def _ancestors(root: str) -> list[str]:
    parts = root.strip("/").split("/")
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]


class DatabaseLockStorage:
    def __init__(self, timeout_max: int) -> None:
        self.timeout_max = timeout_max

    def __repr__(self) -> str:
        return "DatabaseLockStorage()"

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def cleanup(self) -> None:
        with db.write():
            Lock.delete().where(Lock.expire < time.time()).execute()

    def clear(self) -> None:
        with db.write():
            Lock.delete().execute()

    def get(self, token: str) -> dict[str, Any] | None:
        row = Lock.get_or_none((Lock.token == token) & (Lock.expire >= time.time()))
        return _as_dict(row) if row else None

    def _timeout(self, requested: float | None) -> float:
        if requested is None or requested < 0 or requested > self.timeout_max:
            return float(self.timeout_max)
        return float(requested)

    def _conflicts(self, root: str, depth: str, scope: str) -> bool:
        alive = Lock.expire >= time.time()
        near = (Lock.root == root) | (
            Lock.root.in_(_ancestors(root)) & (Lock.depth == "infinity")
        )
        if depth == "infinity":
            near = near | _below(root)
        if scope != "exclusive":
            near = near & (Lock.scope == "exclusive")
        return bool(Lock.select().where(alive & near).exists())

    def create(self, path: str, lock: dict[str, Any]) -> dict[str, Any]:
        root = normalize_lock_root(path)
        timeout = self._timeout(lock.get("timeout"))
        lock.update(
            root=root,
            timeout=timeout,
            expire=time.time() + timeout,
            token=generate_lock_token(),
        )
        with db.write():
            if self._conflicts(root, lock["depth"], lock["scope"]):
                raise DAVError(HTTP_LOCKED, "a conflicting lock exists")
            Lock.create(
                token=lock["token"],
                root=root,
                scope=lock["scope"],
                depth=lock["depth"],
                type=lock.get("type", "write"),
                owner=_text(lock.get("owner")),
                principal=lock.get("principal") or "",
                timeout=timeout,
                expire=lock["expire"],
            )
        return lock

    def refresh(self, token: str, *, timeout: float) -> dict[str, Any]:
        timeout = self._timeout(timeout)
        with db.write():
            Lock.update(timeout=timeout, expire=time.time() + timeout).where(
                Lock.token == token
            ).execute()
        row = Lock.get_or_none(Lock.token == token)
        if row is None:
            raise ValueError(f"no lock {token!r}")
        return _as_dict(row)

    def delete(self, token: str) -> bool:
        with db.write():
            return bool(Lock.delete().where(Lock.token == token).execute())

    def get_lock_list(
        self, path: str, *, include_root: bool, include_children: bool, token_only: bool
    ) -> list[Any]:
        root = normalize_lock_root(path)
        where = Lock.root == root if include_root else None
        if include_children:
            where = _below(root) if where is None else (where | _below(root))
        rows = Lock.select().where(where & (Lock.expire >= time.time()))
        return [row.token if token_only else _as_dict(row) for row in rows]
