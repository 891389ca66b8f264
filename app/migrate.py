"""Database schema versions: a new database is made at the latest version, an
older one is upgraded step by step.

``tests/data/schema1`` holds a database made by schema 1; the upgrade test
opens it, so every new step is exercised on real old data.
"""

from __future__ import annotations

import logging
import uuid
import weakref
from collections.abc import Callable

from app import db
from app.models import (
    TABLES,
    AppToken,
    Meta,
    RecoveryCode,
    Session,
    SignInFailures,
    TotpSecret,
    TrustedAddress,
)

logger = logging.getLogger(__name__)


class SchemaError(Exception):
    """The database cannot be used by this version of Grove."""


def _create() -> None:
    """A new database: the current models' tables, at the latest version."""
    db.database.obj.create_tables(TABLES, safe=True)
    storage = str(uuid.uuid4())
    Meta.insert(key="storage_id", value=storage).on_conflict_ignore().execute()


def _add_app_tokens() -> None:
    db.database.obj.create_tables([AppToken], safe=True)


def _add_sign_in_throttling() -> None:
    db.database.obj.create_tables([SignInFailures, TrustedAddress], safe=True)


def _add_totp() -> None:
    db.database.obj.create_tables([TotpSecret, RecoveryCode], safe=True)


def _add_sessions() -> None:
    db.database.obj.create_tables([Session], safe=True)


# UPGRADES[i] upgrades version i + 1 to i + 2, on data made by the older code.
# Append a step with every model change; never edit a shipped one.
UPGRADES: tuple[Callable[[], None], ...] = (
    _add_app_tokens,
    _add_sign_in_throttling,
    _add_totp,
    _add_sessions,
)
LATEST = 1 + len(UPGRADES)


def current_version() -> int:
    if not db.database.obj.table_exists("meta"):
        return 0
    row = Meta.get_or_none(Meta.key == "schema_version")
    return int(row.value) if row else 0


def migrate() -> tuple[int, int]:
    """Bring the schema up to date; returns (old version, new version)."""
    old = current_version()
    if old > LATEST:
        raise SchemaError(
            f"database schema version {old} is newer than this Grove's ({LATEST}): "
            "run the newer Grove, or restore the backup taken before upgrading"
        )
    if old == 0:
        with db.write():
            # Another process may have made it since we looked.
            if current_version() == 0:
                _create()
                Meta.replace(key="schema_version", value=str(LATEST)).execute()
                logger.info("database created at schema version %d", LATEST)
        return old, LATEST
    for version in range(old, LATEST):
        with db.write():
            if current_version() > version:
                continue
            UPGRADES[version - 1]()
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
