"""Database schema versions: each step upgrades from the version before it."""

from __future__ import annotations

import logging
import uuid
import weakref
from collections.abc import Callable

from app import db
from app.models import TABLES, Meta

logger = logging.getLogger(__name__)


def _schema_1() -> None:
    db.database.obj.create_tables(TABLES, safe=True)
    Meta.insert(key="storage_id", value=str(uuid.uuid4())).on_conflict_ignore().execute()


# Index i upgrades from version i to i + 1. Append; never edit a shipped step.
STEPS: tuple[Callable[[], None], ...] = (_schema_1,)
LATEST = len(STEPS)


def current_version() -> int:
    if not db.database.obj.table_exists("meta"):
        return 0
    row = Meta.get_or_none(Meta.key == "schema_version")
    return int(row.value) if row else 0


def migrate() -> tuple[int, int]:
    """Bring the schema up to date; returns (old version, new version)."""
    old = current_version()
    if old > LATEST:
        raise RuntimeError(f"database schema {old} is newer than this Grove ({LATEST})")
    for version in range(old, LATEST):
        with db.write():
            STEPS[version]()
            Meta.replace(key="schema_version", value=str(version + 1)).execute()
        logger.info("database schema upgraded to version %d", version + 1)
    return old, LATEST


_storage_ids: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def storage_id() -> str:
    """The instance's storage id, made at init; read once per open database."""
    database = db.database.obj
    value = _storage_ids.get(database)
    if value is None:
        value = str(Meta.get(Meta.key == "storage_id").value)
        _storage_ids[database] = value
    return value
