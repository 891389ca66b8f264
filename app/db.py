"""The database handle: SQLite in WAL mode by default, PostgreSQL by URL.

One connection per thread (peewee's default); nothing is opened at import, so
forking servers open their own connections in each worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import peewee
from playhouse.db_url import connect

database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 10000,
    "synchronous": "normal",
    "foreign_keys": 1,
}


def open_database(url: str, state_dir: Path) -> peewee.Database:
    """Open the database named by ``url`` (empty: SQLite in ``state_dir``)."""
    if not url:
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / "grove.db"
        if _same_file(database.obj, path):
            return database.obj  # type: ignore[no-any-return]
        db: peewee.Database = peewee.SqliteDatabase(
            str(path), pragmas=SQLITE_PRAGMAS, check_same_thread=False
        )
    elif url.startswith("sqlite"):
        db = connect(url, pragmas=SQLITE_PRAGMAS)
    else:
        db = connect(url)
    database.initialize(db)
    return db


def _same_file(current: peewee.Database | None, path: Path) -> bool:
    """Whether ``current`` is already the handle of the SQLite file ``path``.

    One handle per file and process: a thread that began a write on one handle
    and goes on through a second (the proxy swapped under it by a command run
    in the process of a live server) waits on its own lock until SQLite gives
    up with "database is locked".
    """
    if not isinstance(current, peewee.SqliteDatabase):
        return False
    return Path(current.database).resolve() == path.resolve()


@contextmanager
def write() -> Iterator[None]:
    """A write transaction; on SQLite it takes the write lock up front.

    A deferred SQLite transaction that upgrades to a write fails with
    SQLITE_BUSY at once instead of waiting for the busy timeout.
    """
    db = database.obj
    if isinstance(db, peewee.SqliteDatabase):
        with db.atomic("IMMEDIATE"):
            yield
    else:
        with db.atomic():
            yield
