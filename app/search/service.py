"""Search as the edges use it: the configured backend, a user's query, the jobs.

:func:`search` parses KQL, asks app.search.access what the user may read,
lets the backend search inside exactly that, and checks each hit against the
node table before it is shown (an index a moment behind a move never shows
a name to someone who may no longer read it). :func:`schedule` is the one
way changes reach the indexer: a durable job on app.jobs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import acl, jobs, rows
from app.auth.principal import Principal
from app.config import Settings
from app.models import Grant, Node, Space
from app.search import access, kql
from app.search import backend as backends
from app.search.backend import Backend, Hit
from app.search.query import Access, And, Not, Or, Query, Scope

logger = logging.getLogger(__name__)

READ = acl.Perm.READ

MAX_LIMIT = 1000

_lock = threading.Lock()
_backends: dict[tuple[Path, str], Backend] = {}


def backend(settings: Settings) -> Backend:
    """The backend config selects, one per data folder and process."""
    key = (settings.data, settings.search_backend)
    with _lock:
        found = _backends.get(key)
        if found is None:
            found = _backends[key] = backends.load(settings)
        return found


def reset() -> None:
    """Close and forget every backend (tests, shutdown)."""
    with _lock:
        for found in _backends.values():
            found.close()
        _backends.clear()


# --- indexing jobs ------------------------------------------------------------


def schedule(job: str, **kwargs: Any) -> None:
    """Queue an indexing job durably (app.jobs), to run after the change.

    A process without a job queue (a library use outside a Grove) queues
    nothing: ``grove index rebuild`` brings the index up to date.
    """
    try:
        jobs.enqueue(job, **kwargs)
    except RuntimeError:
        logger.debug("no job queue: %r for %r not queued", job, kwargs)


# --- searching ----------------------------------------------------------------


@dataclass
class Found:
    """A hit the user may see, with what renders it."""

    hit: Hit
    space: Space
    parts: list[str]
    perms: acl.Perm
    share: Grant | None  # the share it was reached through, if any
    share_depth: int = 0  # how many of ``parts`` name the shared item


@dataclass
class Page:
    found: list[Found]
    total: int


def search(
    settings: Settings,
    principal: Principal | None,
    pattern: str | Query,
    *,
    limit: int = 100,
    offset: int = 0,
    scope_space: str | None = None,
    scope_folder: str | None = None,
    shares_only: bool = False,
) -> Page:
    """One page of what ``principal`` may find for a KQL ``pattern``.

    ``scope_space``/``scope_folder`` narrow it to a space or a folder's subtree,
    ``shares_only`` to what others shared with the user (the share jail).
    """
    query = kql.parse(pattern) if isinstance(pattern, str) else pattern
    query, scope = _scope_of(query)
    if scope is not None:
        scope_space, scope_folder = scope.space, scope.node
    limit = max(0, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    spaces, shares = access.readable(principal)
    if shares_only:
        spaces = {}
    if scope_space is not None:
        # The scope narrows; it never widens what the user may read.
        shares_in = {n: g for n, g in shares.items() if str(g.space_id) == scope_space}
        spaces = {k: v for k, v in spaces.items() if k == scope_space}
        shares = shares_in
    allowed = Access(
        frozenset(spaces),
        frozenset(shares),
        scope_space=scope_space,
        scope_folder=scope_folder,
        excluded=access.denied(principal, spaces),
    )
    results = backend(settings).search(query, allowed, limit=limit, offset=offset)
    chains = _Chains()
    chains.load(hit.node_id for hit in results.hits)
    check = _Checker(chains, spaces, shares, principal)
    found: list[Found] = []
    for hit in results.hits:
        checked = check(hit)
        if checked is None:
            schedule("search.index", node_id=hit.node_id)
            continue
        found.append(checked)
    return Page(found, results.total)


def _scope_of(query: Query) -> tuple[Query, Scope | None]:
    """The query without its ``scope:``, and the scope (only at the top level)."""
    items = list(query.items) if isinstance(query, And) else [query]
    scopes = [item for item in items if isinstance(item, Scope)]
    rest: list[Query] = [item for item in items if not isinstance(item, Scope)]
    if len(scopes) > 1 or any(_has_scope(item) for item in rest):
        raise kql.QueryError("one scope: for the whole pattern, outside OR and NOT")
    if not rest:
        rest = [kql.parse("*")]  # scope alone: everything there
    return (rest[0] if len(rest) == 1 else And(tuple(rest))), (
        scopes[0] if scopes else None
    )


def _has_scope(query: Query) -> bool:
    if isinstance(query, Scope):
        return True
    if isinstance(query, And | Or):
        return any(_has_scope(item) for item in query.items)
    return isinstance(query, Not) and _has_scope(query.item)


# (parent id, name, space id) of a node row
_Row = tuple[str | None, str, str]


def _node_rows(node_ids: list[str]) -> list[Any]:
    """(id, parent id, name, space id) of these nodes, in one statement."""
    # Padded to a power of two, so a handful of compiled statements serve all.
    size = 1 << (len(node_ids) - 1).bit_length()
    padded = node_ids + [node_ids[-1]] * (size - len(node_ids))

    def build() -> Any:
        columns = (Node.id, Node.parent_id, Node.name, Node.space)
        return Node.select(*columns).where(Node.id.in_(padded))

    return list(rows.run(("search.node_rows", size), build, padded).fetchall())


class _Chains:
    """Node rows of the hits and the folders above them, read in a few queries."""

    def __init__(self) -> None:
        self.rows: dict[str, _Row | None] = {}

    def load(self, node_ids: Iterable[str]) -> None:
        """Read these rows and their ancestors' (one query per folder level)."""
        pending = {node_id for node_id in node_ids if node_id not in self.rows}
        for _ in range(512):
            if not pending:
                return
            for node_id in pending:
                self.rows[node_id] = None  # unless found below
            wanted = sorted(pending)
            for start in range(0, len(wanted), 512):
                for node_id, parent_id, name, space_id in _node_rows(
                    wanted[start : start + 512]
                ):
                    parent = None if parent_id is None else str(parent_id)
                    self.rows[str(node_id)] = (parent, str(name), str(space_id))
            pending = {
                row[0]
                for node_id in pending
                if (row := self.rows[node_id]) is not None
                and row[0] is not None
                and row[0] not in self.rows
            }

    def place(self, node_id: str) -> tuple[list[str], list[str]] | None:
        """(ancestor ids root first, path parts) of a node as the table has it."""
        row = self.rows.get(node_id)
        if row is None or row[0] is None:
            return None
        parts = [row[1]]
        ancestors: list[str] = []
        parent_id: str | None = row[0]
        for _ in range(512):
            if parent_id is None:
                return ancestors[::-1], parts[::-1]
            parent = self.rows.get(parent_id)
            if parent is None:
                return None
            ancestors.append(parent_id)
            if parent[0] is not None:
                parts.append(parent[1])
            parent_id = parent[0]
        return None


class _Checker:
    """Each hit checked against the node table and the permission function."""

    def __init__(
        self,
        chains: _Chains,
        spaces: dict[str, Space],
        shares: dict[str, Grant],
        principal: Principal | None,
    ) -> None:
        self.chains = chains
        self.spaces = spaces
        self.shares = shares
        self.principal = principal
        self.memo: acl.Memo = {}
        self.shared_spaces: dict[str, Space | None] = {}

    def __call__(self, hit: Hit) -> Found | None:
        """The hit as the user may see it, or None when the index is behind."""
        place = self.chains.place(hit.node_id)
        row = self.chains.rows.get(hit.node_id)
        if place is None or row is None or row[2] != hit.space_id:
            return None
        ancestors, parts = place
        if "/".join(parts) != hit.path:
            return None
        space = self.spaces.get(hit.space_id)
        if space is not None:
            perms = acl.permissions(self.principal, space, parts, memo=self.memo)
            return Found(hit, space, parts, perms, None) if READ in perms else None
        # ancestors[0] is the space root; the item at chain[depth] is parts[:depth].
        for depth, node_id in enumerate([*ancestors, hit.node_id]):
            grant = self.shares.get(node_id)
            if grant is None:
                continue
            space = self._space(hit.space_id)
            if space is None:
                return None
            perms = acl.permissions(self.principal, space, parts, grant=grant)
            if READ in perms:
                return Found(hit, space, parts, perms, grant, depth)
        return None

    def _space(self, space_id: str) -> Space | None:
        if space_id not in self.shared_spaces:
            self.shared_spaces[space_id] = Space.get_or_none(Space.id == space_id)
        return self.shared_spaces[space_id]
