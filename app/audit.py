"""The audit trail: who did what to which target, from where, and how it ended.

Records are append-only and hash-chained, so that an edited or removed record
shows (``grove audit verify``). A request thread only inserts its record as
*queued* (no ``seq`` yet), a short durable insert; a chainer thread in each
process appends queued records to the chain in order, giving each its ``seq``,
the ``prev_hash`` of the record before it and its own ``hash`` (SHA-256 over
its fields and ``prev_hash``). Chaining takes the chain lock in the database
(SQLite: the write transaction; PostgreSQL: an advisory lock), so one chain
per deployment comes out whichever process or worker appends, and requests
never wait for each other on the chain.

Action names follow OpenCloud's audit vocabulary where it has one
(``file_create``, ``container_create``, ``user_created`` …); Grove's older
dotted names are translated on the way in. Values that look like secrets
(``password=…``) are masked before they are stored.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import peewee

from app import db, rows
from app.models import AuditEvent

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
BATCH = 500
# A wake-up is answered this much later, so that the records of a burst of
# requests are chained in one transaction instead of one each.
CHAIN_DELAY = 0.05
# A fixed key for PostgreSQL's advisory lock that guards the chain ("grove-au").
_PG_LOCK_KEY = 0x67726F76652D6175
_ID = AuditEvent._meta.primary_key

# Grove's first names -> OpenCloud's audit vocabulary (reference §1, Audit).
# file_update and file_copy have no OpenCloud name (it logs an upload over an
# existing file as file_create and has no copy event): Grove keeps them apart.
OPENCLOUD_NAMES = {
    "folder.create": "container_create",
    "file.create": "file_create",
    "file.update": "file_update",
    "file.move": "file_rename",
    "file.copy": "file_copy",
    "file.delete": "file_delete",
    "user.create": "user_created",
    "user.delete": "user_deleted",
    "user.password": "user_feature_changed",
}

_SECRET = re.compile(
    r"(?i)\b(password|passwd|secret|authorization|api[_-]?key|bearer)"
    r"(\s*[=:]\s*|\s+)(\S+)"
)


# An app token's secret part (app.auth.tokens): its identifier stays readable.
_APP_TOKEN = re.compile(r"\b(grove_[0-9a-f]{16}_)[0-9a-f]{48}\b")

# The WSGI environ of the request this thread serves (app.dispatch binds it):
# records made on its behalf without an actor or address take the caller's.
_request: ContextVar[dict[str, Any] | None] = ContextVar("audit_request", default=None)


def scrub(text: str) -> str:
    """``text`` with anything that looks like a secret value masked."""
    text = _APP_TOKEN.sub(lambda m: f"{m.group(1)}***", text)
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


def bind(environ: dict[str, Any] | None) -> None:
    """Records made while this request is served default to its caller.

    The binding lasts until the thread's next request (or ``bind(None)``):
    WsgiDAV does its work while the server iterates the response body.
    """
    _request.set(environ)


def _caller(actor: str, address: str) -> tuple[str, str]:
    environ = _request.get()
    if environ is None:
        return actor, address
    if not actor:
        principal = environ.get("grove.principal")
        actor = principal.name if principal is not None else ""
    return actor, address or environ.get("REMOTE_ADDR", "")


def record(
    action: str,
    *,
    actor: str = "",
    address: str = "",
    target: str = "",
    outcome: str = "ok",
    detail: str = "",
) -> None:
    """Queue one audit event durably; failures are logged, never raised."""
    action = OPENCLOUD_NAMES.get(action, action)
    actor, address = _caller(actor, address)
    if action == "user_feature_changed" and not detail:
        detail = "password"
    values = [time.time(), actor, address, action, scrub(target), outcome]
    values.append(scrub(detail))
    try:
        with db.write():
            # Compiled once (app/rows.py): every change a request makes is recorded.
            rows.run(("audit", "insert"), lambda: _insert(values), values)
    except Exception:
        logger.exception("could not record audit event %r on %r", action, target)
        return
    _chainer.wake()


def _insert(values: list[Any]) -> Any:
    names = ("time", "actor", "address", "action", "target", "outcome", "detail")
    return AuditEvent.insert(dict(zip(names, values, strict=True)))


# --- append-only ----------------------------------------------------------------

_REFUSE = "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
_TABLE = AuditEvent._meta.table_name
# SQLite refuses what would change the trail: removing a record, editing what
# it says, or re-chaining one already chained. The chainer's own update (seq
# and hashes of a queued record) passes.
_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER IF NOT EXISTS {_TABLE}_no_delete BEFORE DELETE ON {_TABLE} "
    + _REFUSE,
    f"CREATE TRIGGER IF NOT EXISTS {_TABLE}_no_edit BEFORE UPDATE OF time, actor, "
    f"address, action, target, outcome, detail ON {_TABLE} " + _REFUSE,
    f"CREATE TRIGGER IF NOT EXISTS {_TABLE}_no_rechain BEFORE UPDATE OF seq, "
    f"prev_hash, hash ON {_TABLE} WHEN OLD.seq IS NOT NULL " + _REFUSE,
)


def protect() -> None:
    """Make the database itself refuse edits and removals (SQLite triggers)."""
    database = db.database.obj
    if isinstance(database, peewee.SqliteDatabase):
        for statement in _SQLITE_TRIGGERS:
            database.execute_sql(statement)


# --- the chain ------------------------------------------------------------------


def digest(event: AuditEvent, seq: int, prev_hash: str) -> str:
    """The hash of one record: its fields, its place and the hash before it."""
    fields = [
        seq,
        repr(float(event.time)),
        event.actor,
        event.address,
        event.action,
        event.target,
        event.outcome,
        event.detail,
        prev_hash,
    ]
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _take_chain_lock() -> None:
    database = db.database.obj
    if isinstance(database, peewee.PostgresqlDatabase):
        database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))
    # SQLite: db.write() began an IMMEDIATE transaction, the database's one lock.


def _head() -> tuple[int, str]:
    last = (
        AuditEvent.select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.seq.is_null(False))
        .order_by(AuditEvent.seq.desc())
        .first()
    )
    return (int(last.seq), str(last.hash)) if last else (0, GENESIS)


def append_queued() -> int:
    """Append every queued record to the chain, in order; returns how many."""
    total = 0
    while True:
        with db.write():
            _take_chain_lock()
            seq, prev = _head()
            queued = list(
                AuditEvent.select()
                .where(AuditEvent.seq.is_null())
                .order_by(_ID)
                .limit(BATCH)
            )
            for event in queued:
                seq += 1
                value = digest(event, seq, prev)
                _link(event.get_id(), seq, prev, value)
                prev = value
        total += len(queued)
        if len(queued) < BATCH:
            return total


def _link(event_id: int, seq: int, prev_hash: str, value: str) -> None:
    params = [seq, prev_hash, value, event_id]
    rows.run(
        ("audit", "link"),
        lambda: AuditEvent.update(seq=seq, prev_hash=prev_hash, hash=value).where(
            _ID == event_id
        ),
        params,
    )


class _Chainer:
    """One thread per process that appends queued records soon after they come."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._guard = threading.Lock()
        self._pid = 0

    def wake(self) -> None:
        if self._pid != os.getpid():
            with self._guard:
                # Threads do not survive a fork: each worker starts its own.
                if self._pid != os.getpid():
                    self._pid = os.getpid()
                    threading.Thread(
                        target=self._run, name="audit-chainer", daemon=True
                    ).start()
        if not self._event.is_set():
            self._event.set()

    def _run(self) -> None:
        while True:
            if self._event.wait(timeout=10):
                time.sleep(CHAIN_DELAY)
            self._event.clear()
            database = db.database.obj
            if database is None:
                continue
            try:
                append_queued()
            except Exception:
                # The records stay queued; the next round (any process) chains them.
                logger.exception("could not append queued audit records")
            finally:
                # Tests swap databases and workers fork: hold no connection.
                database.close()


_chainer = _Chainer()


# --- reading it -----------------------------------------------------------------


@dataclasses.dataclass
class Verification:
    checked: int = 0
    queued: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(anchor: tuple[int, str] | None = None) -> Verification:
    """Walk the whole chain; name every record that was edited or removed.

    ``anchor`` (a ``seq`` and its hash noted earlier, e.g. from the last
    verify) also catches records removed from the end of the chain.
    """
    append_queued()
    result = Verification()
    expected, prev = 1, GENESIS
    anchor_seen = False
    query = (
        AuditEvent.select()
        .where(AuditEvent.seq.is_null(False))
        .order_by(AuditEvent.seq)
        .iterator()
    )
    for event in query:
        seq = int(event.seq)
        if seq != expected:
            gap = (
                f"seq {expected}"
                if seq == expected + 1
                else f"seq {expected}-{seq - 1}"
            )
            result.problems.append(
                f"records {gap} are missing (removed) before seq {seq} "
                f"(id {event.get_id()})"
            )
        elif event.prev_hash != prev:
            result.problems.append(
                f"seq {seq} (id {event.get_id()}): the chain breaks here: the record "
                f"before it (seq {seq - 1}) was edited or replaced"
            )
        if digest(event, seq, str(event.prev_hash)) != event.hash:
            result.problems.append(
                f"seq {seq} (id {event.get_id()}): edited (its fields no longer match "
                "its hash)"
            )
        if anchor and seq == anchor[0]:
            anchor_seen = True
            if event.hash != anchor[1]:
                result.problems.append(f"seq {seq}: does not match the anchor hash")
        result.checked += 1
        expected, prev = seq + 1, str(event.hash)
    result.head_seq, result.head_hash = expected - 1, prev
    if anchor and not anchor_seen:
        result.problems.append(
            f"seq {anchor[0]} of the anchor is missing: records were removed from the "
            f"end (the chain now ends at seq {result.head_seq})"
        )
    result.queued = AuditEvent.select().where(AuditEvent.seq.is_null()).count()
    return result


def as_dict(event: AuditEvent) -> dict[str, Any]:
    """One record as the export and the API show it."""
    when = datetime.datetime.fromtimestamp(float(event.time), datetime.UTC)
    return {
        "seq": event.seq,
        "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "actor": event.actor,
        "address": event.address,
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def query(
    *,
    since: float | None = None,
    until: float | None = None,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    after_seq: int = 0,
    limit: int | None = None,
) -> Iterator[AuditEvent]:
    """Chained records in chain order, filtered (``target``: a prefix)."""
    append_queued()
    conditions = [AuditEvent.seq.is_null(False), AuditEvent.seq > after_seq]
    if since is not None:
        conditions.append(AuditEvent.time >= since)
    if until is not None:
        conditions.append(AuditEvent.time < until)
    if actor:
        conditions.append(AuditEvent.actor == actor)
    if action:
        conditions.append(AuditEvent.action == action)
    if target:
        conditions.append(AuditEvent.target.startswith(target))
    select = AuditEvent.select().where(*conditions).order_by(AuditEvent.seq)
    if limit is not None:
        select = select.limit(limit)
    yield from select.iterator()


def export_jsonl(since: float | None = None) -> Iterator[str]:
    for event in query(since=since):
        yield json.dumps(as_dict(event), ensure_ascii=False)
