"""Write locks (RFC 4918 class 2) kept in the database, so every worker sees them.

A lock's root is the canonical ``/<space-id>/<path>`` of the item, whatever URL
reached it. A grant checks for conflicts and inserts in one write transaction
that first holds the space's row: SQLite's write transaction serialises all
writers, PostgreSQL queues grants per space on the row lock, so two workers
or nodes can never both grant conflicting locks.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from dataclasses import dataclass
from typing import Any

import peewee

from app import db
from app.errors import Locked
from app.models import Lock, Space

SCOPES = ("exclusive", "shared")
DEPTHS = ("0", "infinity")


class LockConflict(Locked):
    """A grant would conflict with the locks at ``roots``."""

    def __init__(self, root: str, roots: list[str]) -> None:
        super().__init__(f"{root!r} conflicts with the locks on {roots!r}")
        self.roots = roots


@dataclass(frozen=True)
class LockInfo:
    token: str
    root: str
    scope: str
    depth: str
    owner: str
    principal: str
    timeout: float
    expire: float


def _info(row: Lock) -> LockInfo:
    return LockInfo(
        token=row.token,
        root=row.root,
        scope=row.scope,
        depth=row.depth,
        owner=row.owner,
        principal=row.principal,
        timeout=row.timeout,
        expire=row.expire,
    )


def normalise_root(root: str) -> str:
    return "/" + root.strip("/")


def ancestors(root: str) -> list[str]:
    """``/a/b/c`` -> ``['/a', '/a/b']``: the roots whose infinity locks cover it."""
    parts = normalise_root(root).strip("/").split("/")
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]


def _alive() -> Any:
    return Lock.expire >= time.time()


def _below(root: str) -> Any:
    prefix = normalise_root(root).rstrip("/") + "/"
    return peewee.fn.SUBSTR(Lock.root, 1, len(prefix)) == prefix


def _hold_space(root: str) -> None:
    """Hold the space's row until the transaction ends, where the database can."""
    space_id = normalise_root(root).split("/")[1]
    query = Space.select(Space.id).where(Space.id == space_id)
    if db.database.obj.for_update:
        query = query.for_update()
    list(query)


def conflicts(root: str, *, scope: str, depth: str) -> list[str]:
    """Roots of live locks that a new lock (scope, depth) on ``root`` conflicts with.

    Locks on the root and depth-infinity locks on its ancestors cover it; a
    depth-infinity request also covers everything below. Only two shared locks
    are compatible (RFC 4918 6.1).
    """
    root = normalise_root(root)
    near = (Lock.root == root) | (
        Lock.root.in_(ancestors(root)) & (Lock.depth == "infinity")
    )
    if depth == "infinity":
        near = near | _below(root)
    if scope == "shared":
        near = near & (Lock.scope == "exclusive")
    rows = Lock.select(Lock.root).where(_alive() & near)
    return sorted({row.root for row in rows})


def grant(
    root: str, *, scope: str, depth: str, owner: str, principal: str, timeout: float
) -> LockInfo:
    """Grant a new lock, or raise LockConflict."""
    if scope not in SCOPES or depth not in DEPTHS:
        raise ValueError(f"invalid lock scope {scope!r} or depth {depth!r}")
    root = normalise_root(root)
    row = Lock(
        token=f"opaquelocktoken:{uuid.uuid4()}",
        root=root,
        scope=scope,
        depth=depth,
        type="write",
        owner=owner,
        principal=principal,
        timeout=timeout,
        expire=time.time() + timeout,
    )
    with db.write():
        _hold_space(root)
        Lock.delete().where(Lock.expire < time.time()).execute()
        found = conflicts(root, scope=scope, depth=depth)
        if found:
            raise LockConflict(root, found)
        row.save(force_insert=True)
    return _info(row)


def get(token: str) -> LockInfo | None:
    """The live lock with ``token``, if any."""
    row = Lock.get_or_none((Lock.token == token) & _alive())
    return _info(row) if row else None


def refresh(token: str, timeout: float) -> LockInfo | None:
    """Give a live lock a new lifetime; None if it is gone or expired."""
    with db.write():
        Lock.update(timeout=timeout, expire=time.time() + timeout).where(
            (Lock.token == token) & _alive()
        ).execute()
    return get(token)


def release(token: str) -> bool:
    with db.write():
        return bool(Lock.delete().where(Lock.token == token).execute())


def on(root: str, *, include_root: bool = True, below: bool = False) -> list[LockInfo]:
    """Live locks rooted at ``root`` and/or anywhere below it."""
    # Plain SQL: every write request asks this for each ancestor several
    # times, and building the query through peewee cost ~30 times more than
    # running it (docs/benchmarks.md, issue 3).
    root = normalise_root(root)
    param = db.database.obj.param
    clauses: list[str] = []
    params: list[Any] = []
    if include_root:
        clauses.append(f"root = {param}")
        params.append(root)
    if below:
        prefix = root.rstrip("/") + "/"
        clauses.append(f"substr(root, 1, {param}) = {param}")
        params += [len(prefix), prefix]
    if not clauses:
        return []
    params.append(time.time())
    cursor = db.database.execute_sql(
        f'SELECT {_COLUMNS} FROM "{Lock._meta.table_name}" '
        f"WHERE ({' OR '.join(clauses)}) AND expire >= {param}",
        params,
    )
    return [LockInfo(*row) for row in cursor.fetchall()]


_COLUMNS = ", ".join(field.name for field in dataclasses.fields(LockInfo))


def lineage(root: str) -> list[str]:
    """``/a/b`` -> ``['/a/b', '/a', '/']``: the root and every root above it."""
    root = normalise_root(root)
    return [root, *reversed(ancestors(root)), *(["/"] if root != "/" else [])]


def covering(root: str, *, below: bool = False) -> list[LockInfo]:
    """Live locks on ``root`` or any root above it (and below it, if asked), in
    one query: what a write to ``root`` must be checked against."""
    roots = lineage(root)
    param = db.database.obj.param
    clauses = [f"root IN ({', '.join([param] * len(roots))})"]
    params: list[Any] = list(roots)
    if below:
        prefix = roots[0].rstrip("/") + "/"
        clauses.append(f"substr(root, 1, {param}) = {param}")
        params += [len(prefix), prefix]
    params.append(time.time())
    cursor = db.database.execute_sql(
        f'SELECT {_COLUMNS} FROM "{Lock._meta.table_name}" '
        f"WHERE ({' OR '.join(clauses)}) AND expire >= {param}",
        params,
    )
    return [LockInfo(*row) for row in cursor.fetchall()]


def purge_expired() -> int:
    with db.write():
        return int(Lock.delete().where(Lock.expire < time.time()).execute())


def clear() -> None:
    with db.write():
        Lock.delete().execute()
