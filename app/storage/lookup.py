"""Find an item by its id: the node table's parent chain gives its path.

Clients name items by resource id (``<storage>$<space>!<node>``) in the meta
URL tree and the API; the database stores parent id + name, so the path is
read upward to the space root and then checked on disk.
"""

from __future__ import annotations

from collections.abc import Callable

from app.models import Node, Space
from app.storage.tree import Item, SpaceTree

MAX_DEPTH = 1000


def node_id_of(resource_id: str) -> str:
    """The node id in a resource id (``<storage>$<space>!<node>``) or a bare id."""
    return resource_id.rpartition("!")[2].rpartition("$")[2]


def parts_of(node_id: str) -> tuple[Space, list[str]] | None:
    """The space and path of a node the table knows, or None."""
    row = Node.get_or_none(Node.id == node_id)
    if row is None:
        return None
    space: Space = row.space
    parts: list[str] = []
    for _ in range(MAX_DEPTH):
        if row.id == space.id or row.parent_id is None:
            parts.reverse()
            return space, parts
        parts.append(str(row.name))
        if row.parent_id == space.id:
            # The root's own row may not exist yet: its id is the space's.
            parts.reverse()
            return space, parts
        row = Node.get_or_none(Node.id == row.parent_id)
        if row is None:
            return None
    return None


def item(tree_for: Callable[[Space], SpaceTree], node_id: str) -> Item | None:
    """The item with id ``node_id`` as it is on disk now, or None."""
    found = parts_of(node_id)
    if found is None:
        return None
    space, parts = found
    current = tree_for(space).item(parts)
    if current is None or current.id != node_id:
        return None
    return current
