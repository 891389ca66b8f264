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

import peewee

from app import audit, db
from app.models import (
    TABLES,
    AppToken,
    AuditEvent,
    Favorite,
    Grant,
    Group,
    GroupMember,
    Meta,
    Node,
    RecoveryCode,
    Session,
    ShareState,
    SignInFailures,
    Space,
    Tag,
    TotpSecret,
    TrashItem,
    TrustedAddress,
    UploadSession,
    User,
    Version,
)

logger = logging.getLogger(__name__)


class SchemaError(Exception):
    """The database cannot be used by this version of Grove."""


def _create() -> None:
    """A new database: the current models' tables, at the latest version."""
    db.database.obj.create_tables(TABLES, safe=True)
    audit.protect()
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


def _sql_literal(value: object) -> str:
    """A column default in SQL text (DDL takes no parameters)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for a default of {value!r}")


def _add_columns(model: type[peewee.Model], *names: str) -> None:
    """ALTER TABLE ... ADD COLUMN, with the default in SQL for NOT NULL columns.

    peewee's migrator would rebuild the table for a NOT NULL column on SQLite,
    and dropping the old table cascades into every row that refers to it.
    """
    database = db.database.obj
    meta = model._meta
    for name in names:
        field = meta.fields[name]
        context = database.get_sql_context()
        context.literal("ALTER TABLE ").sql(peewee.Entity(meta.table_name))
        context.literal(" ADD COLUMN ").sql(field.ddl(context))
        if not field.null:
            context.literal(f" DEFAULT {_sql_literal(field.default)}")
        sql, params = context.query()
        database.execute_sql(sql, params)
    for index in meta.fields_to_index():
        if any(field.name in names for field in index._expressions):
            database.execute_sql(*database.get_sql_context().sql(index).query())


def _add_spaces_sharing_pipeline() -> None:
    """Project spaces, grants, trash, versions, tags, uploads, the audit chain."""
    _add_columns(Space, "description", "quota_total", "disabled", "created_by")
    _add_columns(Node, "mime")
    _add_columns(AuditEvent, "seq", "prev_hash", "hash")
    db.database.obj.create_tables(
        [
            Group,
            GroupMember,
            Grant,
            ShareState,
            TrashItem,
            Version,
            Favorite,
            Tag,
            UploadSession,
        ],
        safe=True,
    )


def _add_user_profile() -> None:
    """Users' mail address, enabled flag and language (the graph API's user)."""
    _add_columns(User, "mail", "account_enabled", "preferred_language")


def _add_space_admin() -> None:
    """Users' space-admin role (creating project spaces)."""
    _add_columns(User, "space_admin")


def _protect_audit_trail() -> None:
    """The audit trail append-only in the database itself."""
    audit.protect()


# UPGRADES[i] upgrades version i + 1 to i + 2, on data made by the older code.
# Append a step with every model change; never edit a shipped one.
UPGRADES: tuple[Callable[[], None], ...] = (
    _add_app_tokens,
    _add_sign_in_throttling,
    _add_totp,
    _add_sessions,
    _add_spaces_sharing_pipeline,
    _add_user_profile,
    _add_space_admin,
    _protect_audit_trail,
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
