"""Dead properties (PROPPATCH), keyed by node id and kept with the file.

They live in one extended attribute so they travel with the file through
renames; a set too large for an extended attribute moves to the database.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from app import db
from app.errors import InsufficientStorage
from app.models import DeadProperty

PROPS_ATTR = "user.grove.props"
# ext4 refuses values near 4 KiB with ENOSPC, which is not a full disk.
XATTR_LIMIT = 3000

# Bounds per file or folder, so that PROPPATCH cannot turn one item into an
# unbounded store (every set rewrites the item's whole set).
MAX_PROPERTIES = 256
MAX_TOTAL_BYTES = 256 * 1024


def check_limits(props: dict[str, str]) -> None:
    """Refuse a set of dead properties larger than one item may hold."""
    if len(props) > MAX_PROPERTIES:
        raise InsufficientStorage(
            f"more than {MAX_PROPERTIES} dead properties on one item"
        )
    size = sum(len(k.encode()) + len(v.encode()) for k, v in props.items())
    if size > MAX_TOTAL_BYTES:
        raise InsufficientStorage(
            f"dead properties of one item over {MAX_TOTAL_BYTES} bytes"
        )


# Stored in the attribute instead of the set when the set lives in the database,
# so that a file without dead properties costs one getxattr and no query.
IN_DATABASE = b"@database"


def load(path: Path, node_id: str) -> dict[str, str]:
    try:
        raw = os.getxattr(path, PROPS_ATTR)
    except OSError:
        return {}
    if raw != IN_DATABASE:
        try:
            return dict(json.loads(raw))
        except ValueError:
            return {}
    rows = DeadProperty.select().where(DeadProperty.node_id == node_id)
    return {row.name: row.value for row in rows}


def save(path: Path, node_id: str, props: dict[str, str]) -> None:
    encoded = json.dumps(props, ensure_ascii=False).encode()
    with db.write():
        DeadProperty.delete().where(DeadProperty.node_id == node_id).execute()
        if len(encoded) <= XATTR_LIMIT:
            if props:
                os.setxattr(path, PROPS_ATTR, encoded)
            else:
                _remove_attr(path)
            return
        os.setxattr(path, PROPS_ATTR, IN_DATABASE)
        DeadProperty.insert_many(
            [{"node_id": node_id, "name": k, "value": v} for k, v in props.items()]
        ).execute()


def _remove_attr(path: Path) -> None:
    try:
        os.removexattr(path, PROPS_ATTR)
    except OSError:
        pass


def copy(source: Path, source_id: str, target: Path, target_id: str) -> None:
    """Give ``target`` the dead properties of ``source`` (a COPY keeps them)."""
    stored = load(source, source_id)
    if stored:
        save(target, target_id, stored)
