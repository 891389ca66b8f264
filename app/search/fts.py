"""The embedded search backend: SQLite FTS5 in its own file under .grove/.

Each document is a row of ``doc`` (metadata) and one of the FTS5 table
``fts`` (name, content, tags and ``acl``). ``acl`` holds one token for the
document's space and one for each folder above it and itself, so that "what
may this user read" (the space tokens of their spaces, the node tokens of
items shared with them) is part of the full-text MATCH: FTS5 intersects the
posting lists, and a search over 100,000 documents of which a user may read
1 % looks at their 1 % only (docs/benchmarks.md). Conditions full-text
cannot express (sizes, times, media types, whole tags, name patterns) are
SQL on ``doc`` in the same statement.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.config import Settings
from app.search.backend import Backend, Document, Hit, Results
from app.search.fts_query import (
    SqlWhere,
    access_match,
    acl_text,
    has_content_terms,
    match_expression,
    token,
)
from app.search.query import Access, And, Not, Query

SCHEMA = """
CREATE TABLE IF NOT EXISTS doc (
    rowid INTEGER PRIMARY KEY,
    node_id TEXT NOT NULL UNIQUE,
    space_id TEXT NOT NULL,
    parent_id TEXT,
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    name_lc TEXT NOT NULL,
    is_dir INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    mediatype TEXT NOT NULL,
    tags TEXT NOT NULL,
    ancestors TEXT NOT NULL,
    stamp TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS doc_space ON doc(space_id);
CREATE INDEX IF NOT EXISTS doc_parent ON doc(parent_id);
CREATE TABLE IF NOT EXISTS doc_tag (
    tag TEXT NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (tag, doc)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_tag_doc ON doc_tag(doc);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    name, content, tags, acl, tokenize = "unicode61 remove_diacritics 2"
);
"""

_COLUMNS = (
    "d.node_id, d.space_id, d.parent_id, d.path, d.name, d.is_dir, d.size, "
    "d.mtime, d.mediatype, d.tags"
)
# Column weights for bm25: name, content, tags, acl.
_RANK = "bm25(fts, 10.0, 1.0, 4.0, 0.0)"
_SNIPPET = "snippet(fts, 1, '<mark>', '</mark>', '…', 16)"


class FtsBackend(Backend):
    """SQLite FTS5 in one file; one connection per thread (WAL)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # executescript commits on its own: no explicit transaction around it.
        self._connection().executescript(SCHEMA)

    @classmethod
    def from_settings(cls, settings: Settings) -> FtsBackend:
        return cls(settings.state_dir / "search" / "index.sqlite")

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "db", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.db = connection
        return connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def close(self) -> None:
        connection = getattr(self._local, "db", None)
        if connection is not None:
            connection.close()
            self._local.db = None

    # --- writing --------------------------------------------------------------

    def upsert(self, documents: Iterable[Document]) -> None:
        batch = list(documents)
        for start in range(0, len(batch), 500):
            with self._write() as connection:
                for doc in batch[start : start + 500]:
                    self._upsert_one(connection, doc)

    def _upsert_one(self, connection: sqlite3.Connection, doc: Document) -> None:
        found = connection.execute(
            "SELECT rowid FROM doc WHERE node_id = ?", (doc.node_id,)
        ).fetchone()
        content = doc.content
        if found is not None:
            if content is None:
                kept = connection.execute(
                    "SELECT content FROM fts WHERE rowid = ?", (found[0],)
                ).fetchone()
                content = kept[0] if kept else ""
            connection.execute("DELETE FROM fts WHERE rowid = ?", (found[0],))
            connection.execute("DELETE FROM doc_tag WHERE doc = ?", (found[0],))
        values = (
            doc.space_id,
            doc.parent_id,
            doc.path,
            doc.name,
            doc.name.lower(),
            int(doc.is_dir),
            doc.size,
            doc.mtime,
            doc.mediatype,
            json.dumps(doc.tags),
            " ".join(doc.ancestors),
            doc.stamp,
        )
        if found is None:
            cursor = connection.execute(
                "INSERT INTO doc (node_id, space_id, parent_id, path, name, name_lc, "
                "is_dir, size, mtime, mediatype, tags, ancestors, stamp) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (doc.node_id, *values),
            )
            rowid = cursor.lastrowid
        else:
            rowid = found[0]
            connection.execute(
                "UPDATE doc SET space_id=?, parent_id=?, path=?, name=?, name_lc=?, "
                "is_dir=?, size=?, mtime=?, mediatype=?, tags=?, ancestors=?, "
                "stamp=? WHERE rowid=?",
                (*values, rowid),
            )
        connection.execute(
            "INSERT INTO fts (rowid, name, content, tags, acl) VALUES (?,?,?,?,?)",
            (rowid, doc.name, content or "", " ".join(doc.tags), acl_text(doc)),
        )
        connection.executemany(
            "INSERT OR IGNORE INTO doc_tag (tag, doc) VALUES (?, ?)",
            [(tag.lower(), rowid) for tag in doc.tags],
        )

    def _delete_rows(self, connection: sqlite3.Connection, rowids: list[int]) -> None:
        for start in range(0, len(rowids), 500):
            chunk = rowids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            connection.execute(f"DELETE FROM fts WHERE rowid IN ({marks})", chunk)
            connection.execute(f"DELETE FROM doc_tag WHERE doc IN ({marks})", chunk)
            connection.execute(f"DELETE FROM doc WHERE rowid IN ({marks})", chunk)

    def delete(self, node_ids: Iterable[str]) -> None:
        wanted = list(node_ids)
        with self._write() as connection:
            rowids: list[int] = []
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rowids += [
                    row[0]
                    for row in connection.execute(
                        f"SELECT rowid FROM doc WHERE node_id IN ({marks})", chunk
                    )
                ]
            self._delete_rows(connection, rowids)

    def delete_subtree(self, node_id: str) -> None:
        with self._write() as connection:
            rowids = [
                row[0]
                for row in connection.execute(
                    "SELECT rowid FROM fts WHERE fts MATCH ?",
                    (f'acl : "{token("n", node_id)}"',),
                )
            ]
            self._delete_rows(connection, rowids)

    def delete_space(self, space_id: str) -> None:
        with self._write() as connection:
            rowids = [
                row[0]
                for row in connection.execute(
                    "SELECT rowid FROM doc WHERE space_id = ?", (space_id,)
                )
            ]
            self._delete_rows(connection, rowids)

    # --- reading --------------------------------------------------------------

    def known(self, node_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        wanted = list(node_ids)
        out: dict[str, tuple[str, str]] = {}
        connection = self._connection()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for node_id, stamp, path in connection.execute(
                f"SELECT node_id, stamp, path FROM doc WHERE node_id IN ({marks})",
                chunk,
            ):
                out[node_id] = (stamp, path)
        return out

    def children(self, parent_id: str) -> dict[str, str]:
        rows = self._connection().execute(
            "SELECT node_id, path FROM doc WHERE parent_id = ?", (parent_id,)
        )
        return {node_id: path for node_id, path in rows}

    def count(self) -> int:
        return int(self._connection().execute("SELECT count(*) FROM doc").fetchone()[0])

    def search(
        self, query: Query, access: Access, *, limit: int, offset: int = 0
    ) -> Results:
        if access.empty:
            return Results([], 0)
        conjuncts = list(query.items) if isinstance(query, And) else [query]
        match = access_match(access)
        rest: list[Query] = []
        negative: list[str] = []
        for item in conjuncts:
            if isinstance(item, Not):
                expression = match_expression(item.item)
                if expression is not None:
                    negative.append(expression)
                    continue
            else:
                expression = match_expression(item)
                if expression is not None:
                    match = f"({match}) AND ({expression})"
                    continue
            rest.append(item)
        for expression in negative:
            match = f"({match}) NOT ({expression})"
        sql = SqlWhere()
        where = " AND ".join(sql.where(item) for item in rest) or "1"
        if access.scope_folder is not None:
            where += " AND d.node_id != ?"
            sql.params.append(access.scope_folder)
        snippet = _SNIPPET if has_content_terms(query) else "''"
        base = (
            f"FROM fts JOIN doc d ON d.rowid = fts.rowid WHERE fts MATCH ? AND {where}"
        )
        params = [match, *sql.params]
        connection = self._connection()
        rows = connection.execute(
            f"SELECT {_COLUMNS}, {_RANK} AS score, {snippet} {base} "
            "ORDER BY score, d.name_lc LIMIT ? OFFSET ?",
            (*params, limit, offset),
        ).fetchall()
        total = len(rows) + offset
        if len(rows) == limit or offset:
            total = int(
                connection.execute(f"SELECT count(*) {base}", params).fetchone()[0]
            )
        hits = [
            Hit(
                node_id=row[0],
                space_id=row[1],
                parent_id=row[2],
                path=row[3],
                name=row[4],
                is_dir=bool(row[5]),
                size=int(row[6]),
                mtime=float(row[7]),
                mediatype=row[8],
                tags=json.loads(row[9]),
                score=round(-float(row[10]), 6),
                highlights=row[11] or "",
            )
            for row in rows
        ]
        return Results(hits, total)
