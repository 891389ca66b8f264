"""Tags on files and folders: shared by everyone who sees the item, kept by
node id (``oc:tags`` in WebDAV, ``/extensions/org.libregraph/tags`` in the API).

A tag is a non-empty text of at most 255 characters without commas (WebDAV
shows an item's tags as a comma-separated list) or control characters.
"""

from __future__ import annotations

from collections.abc import Iterable

from app import acl, db
from app.auth.principal import Principal
from app.errors import BadRequest
from app.models import Node, Tag
from app.perms import VISIBLE
from app.search import hooks as search_hooks
from app.storage import lookup

CHUNK = 500
MAX_LENGTH = 255


def clean(names: Iterable[str]) -> list[str]:
    """Tag names trimmed and checked; duplicates dropped, order kept."""
    out: list[str] = []
    for raw in names:
        name = raw.strip()
        if not name or len(name) > MAX_LENGTH:
            raise BadRequest(f"a tag must have 1 to {MAX_LENGTH} characters: {raw!r}")
        if "," in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise BadRequest(
                f"a tag may not hold commas or control characters: {raw!r}"
            )
        if name not in out:
            out.append(name)
    return out


def assign(node_id: str, names: Iterable[str]) -> None:
    rows = [{"node_id": node_id, "name": name} for name in clean(names)]
    if rows:
        with db.write():
            Tag.insert_many(rows).on_conflict_ignore().execute()
        search_hooks.changed(node_id)  # found by tag: after the commit, as a job


def unassign(node_id: str, names: Iterable[str]) -> None:
    wanted = clean(names)
    with db.write():
        Tag.delete().where((Tag.node_id == node_id) & Tag.name.in_(wanted)).execute()
    search_hooks.changed(node_id)


def of_nodes(node_ids: Iterable[str]) -> dict[str, list[str]]:
    """Each node's tags, sorted (one query per 500 nodes)."""
    wanted = list(node_ids)
    found: dict[str, list[str]] = {}
    for start in range(0, len(wanted), CHUNK):
        query = (
            Tag.select(Tag.node_id, Tag.name)
            .where(Tag.node_id.in_(wanted[start : start + CHUNK]))
            .order_by(Tag.name)
        )
        for row in query:
            found.setdefault(str(row.node_id), []).append(str(row.name))
    return found


def visible(principal: Principal) -> list[str]:
    """Every tag on an item ``principal`` may see, sorted."""
    memo: acl.Memo = {}
    names: set[str] = set()
    by_node: dict[str, list[str]] = {}
    for row in Tag.select(Tag.node_id, Tag.name).join(
        Node, on=(Tag.node_id == Node.id)
    ):
        by_node.setdefault(str(row.node_id), []).append(str(row.name))
    for node_id, tags in by_node.items():
        if names.issuperset(tags):
            continue
        found = lookup.parts_of(node_id)
        if found is None:
            continue
        space, parts = found
        if acl.permissions(principal, space, parts, memo=memo) & VISIBLE:
            names.update(tags)
    return sorted(names)
