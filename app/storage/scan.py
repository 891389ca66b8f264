"""Reconcile the node table with the tree on disk.

Used by ``grove scan`` and at start (after downtime), by the watcher for the
folders that inotify reports, and after an inotify queue overflow. The disk is
the truth; the table follows it:

- an entry the table does not know gets a row, keeping an id it carries in
  ``user.grove.id`` and getting a new one otherwise;
- an entry found at another place under a known id was moved: its row is
  updated in place (parent id + name), so its id survives;
- a second entry with the same id (``cp -a``, ``rsync -X``, hard links) gets a
  new id; a hard link's id lives in the database only (links share xattrs);
- a file whose inode, size or mtime changed loses its checksum stamp;
- a file without an id found where a file of the table was (its xattrs were
  lost, or an editor saved by renaming a new file over it) takes that id;
- rows whose entries are gone are removed;
- the recursive size and tree mtime of every folder where something changed,
  and of its ancestors up to the space root, are recomputed, so their ETags
  change and ``oc:size`` is right.

A scope is a set of folders, each reconciled with its direct members; folders
that are new to the table are walked whole. A full scan is the space root,
walked whole. Time and memory are proportional to the part walked.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from app import db
from app.errors import NotFound
from app.models import Node, Space
from app.search import hooks as search_hooks
from app.spaces import root_path
from app.storage import follow, ids
from app.storage.paths import entry_stat

logger = logging.getLogger(__name__)

CHUNK = 500  # ids per IN (...) query
WRITE_BATCH = 5000  # rows per write transaction, so requests are not held up

_COLUMNS = (
    Node.id,
    Node.parent_id,
    Node.name,
    Node.is_dir,
    Node.inode,
    Node.size,
    Node.mtime_ns,
    Node.tree_size,
    Node.checksum_stamp,
    Node.space,
)


@dataclasses.dataclass
class Row:
    """The columns of a node row that reconciling compares."""

    id: str
    parent_id: str | None
    name: str
    is_dir: bool
    inode: int
    size: int
    mtime_ns: int
    tree_size: int
    checksum_stamp: str | None
    space_id: str


@dataclasses.dataclass
class Entry:
    """One file or folder found on disk."""

    path: str
    parent: int  # index of the parent entry; -1: the scope folder `scope_id`
    scope_id: str
    name: str
    st: os.stat_result
    xid: str | None  # the id in its extended attribute
    db_only: bool  # symlink or hard link: the id lives in the database only
    node_id: str = ""

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.st.st_mode)


@dataclasses.dataclass
class ScanResult:
    walked: int = 0
    added: int = 0
    changed: int = 0
    moved: int = 0
    removed: int = 0
    new_ids: list[str] = dataclasses.field(default_factory=list)
    folders_changed: int = 0

    def merge(self, other: ScanResult) -> None:
        for field in dataclasses.fields(self):
            value = getattr(other, field.name)
            if isinstance(value, list):
                getattr(self, field.name).extend(value)
            else:
                setattr(self, field.name, getattr(self, field.name) + value)

    def summary(self) -> str:
        return (
            f"{self.walked} entries walked: {self.added} added, {self.changed} "
            f"changed, {self.moved} moved, {self.removed} removed, "
            f"{self.folders_changed} folders changed"
        )


# New rows, written with one statement per batch: peewee's insert_many spent
# ~0.7 ms per row building SQL (7 s of a 10,000-file burst's 8 s write).
INSERT_COLUMNS = (
    "id",
    "space",
    "parent_id",
    "name",
    "is_dir",
    "inode",
    "size",
    "mtime_ns",
    "tree_mtime_ns",
    "tree_size",
)
# On conflict (a row another writer added meanwhile) the place and content
# columns take the scan's values, the rest stays.
_KEEP_ON_CONFLICT = ("parent_id", "name", "space_id", "inode", "size", "mtime_ns")


def _insert_sql(param: str) -> str:
    table = Node._meta.table_name
    columns = ", ".join("space_id" if c == "space" else c for c in INSERT_COLUMNS)
    marks = ", ".join([param] * len(INSERT_COLUMNS))
    update = ", ".join(f"{c} = excluded.{c}" for c in _KEEP_ON_CONFLICT)
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
        f"ON CONFLICT (id) DO UPDATE SET {update}"
    )


def _chunks(items: Collection[str]) -> Iterator[list[str]]:
    listed = list(items)
    for start in range(0, len(listed), CHUNK):
        yield listed[start : start + CHUNK]


def _rows(where: Any) -> Iterator[Row]:
    # Plain tuples from the cursor: peewee's per-value conversion cost more
    # than the query for a folder of 10,000 files (booleans come as 0/1).
    sql, params = Node.select(*_COLUMNS).where(where).sql()
    for values in db.database.obj.execute_sql(sql, params):
        yield Row(*values)


class Reconciler:
    """Reconciles folders of one space; see the module docstring for the rules."""

    def __init__(
        self,
        space: Space,
        root: Path,
        *,
        fresh: Callable[[str], bool] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.space = space
        self.space_id = str(space.id)
        self.root = root
        # Ids the caller gave moments ago that no client can have seen yet
        # (the watcher's): a file carrying one that replaced another file by
        # rename takes the replaced file's id instead (an editor's save).
        self.fresh = fresh or (lambda node_id: False)
        self.progress = progress
        self.entries: list[Entry] = []
        self.rows: dict[str, Row] = {}
        self.by_place: dict[tuple[str | None, str], str] = {}
        # Folders whose members were all listed: by id (as carried) and index.
        self.walked: dict[str, str] = {}
        self.scanned: set[int] = set()
        self.result = ScanResult()

    # -- walking -------------------------------------------------------------

    def _scan_folder(self, path: str, parent: int, scope_id: str) -> list[int] | None:
        """Add the members of one folder as entries; returns the folders' indexes,
        or None when the folder cannot be listed (its rows are then kept)."""
        folders: list[int] = []
        try:
            listing = os.scandir(path)
        except OSError as error:
            logger.warning("cannot scan %r: %s", path, error)
            return None
        with listing:
            for item in listing:
                st = entry_stat(self.root, item)
                if st is None:
                    continue
                link = item.is_symlink()
                xid = None if link else ids.read_id(item.path)
                self.entries.append(
                    Entry(item.path, parent, scope_id, item.name, st, xid, link)
                )
                if stat.S_ISDIR(st.st_mode):
                    folders.append(len(self.entries) - 1)
        if self.progress:
            self.progress(len(self.entries))
        return folders

    def _walk(self, pending: list[int]) -> None:
        """Walk the folders at ``pending`` (entry indexes) and all below."""
        while pending:
            index = pending.pop()
            entry = self.entries[index]
            members = self._scan_folder(entry.path, index, entry.scope_id)
            if members is None:
                continue
            self.scanned.add(index)
            if entry.xid:
                self.walked[entry.xid] = entry.path
            pending.extend(members)

    def _load(self, where: Any) -> None:
        for row in _rows(where):
            self.rows[row.id] = row
            self.by_place[(row.parent_id, row.name)] = row.id

    # -- the whole run -------------------------------------------------------

    def run(self, folders: Iterable[tuple[str, str]], *, deep: bool) -> ScanResult:
        """Reconcile ``folders`` (node id, path); ``deep``: everything below too."""
        scope = dict(folders)
        for folder_id, path in list(scope.items()):
            members = self._scan_folder(path, -1, folder_id)
            if members is None:
                del scope[folder_id]
                continue
            self.walked[folder_id] = path
            if deep:
                self._walk(members)
        if not scope:
            return self.result
        full = deep and self.space_id in scope
        if full:
            self._load(Node.space == self.space_id)
        else:
            loaded: set[str] = set()
            self._load_members(loaded)
            if not deep:
                self._walk_new_folders()
                self._load_members(loaded)
        self._load_ids({e.xid for e in self.entries if e.xid} - set(self.rows))
        self._resolve()
        self._apply(scope, full=full)
        self.result.walked = len(self.entries)
        return self.result

    def _walk_new_folders(self) -> None:
        """In a shallow run, walk in full the folders the table does not know:
        their contents arrived with them (mkdir -p, tar -x, mv from outside)."""
        self._load_ids({e.xid for e in self.entries if e.xid} - set(self.rows))
        new = [
            index
            for index, entry in enumerate(self.entries)
            if entry.is_dir and self._arrived(entry)
        ]
        self._walk(new)

    def _arrived(self, folder: Entry) -> bool:
        """A folder new to the table, or a copy carrying a known folder's id."""
        row = self.rows.get(folder.xid or "")
        if row is None:
            return True
        place = (row.parent_id, row.name) != (folder.scope_id, folder.name)
        return place and row.inode != folder.st.st_ino

    def _load_members(self, loaded: set[str]) -> None:
        """Load the rows of the walked folders' members, each folder once."""
        fresh = [folder for folder in self.walked if folder not in loaded]
        loaded.update(fresh)
        for chunk in _chunks(fresh):
            self._load(Node.parent_id.in_(chunk))

    def _load_ids(self, wanted: set[str]) -> None:
        for chunk in _chunks(wanted):
            self._load(Node.id.in_(chunk))

    # -- ids -----------------------------------------------------------------

    def _parent_id(self, entry: Entry) -> str:
        return (
            entry.scope_id if entry.parent < 0 else self.entries[entry.parent].node_id
        )

    def _keepers(self) -> dict[str, int]:
        """For each id carried by several entries, the one that keeps it: the
        row's own inode first, then the row's name, then the first found."""
        groups: dict[str, list[int]] = {}
        for index, entry in enumerate(self.entries):
            if entry.xid and not entry.db_only:
                groups.setdefault(entry.xid, []).append(index)
        keepers: dict[str, int] = {}
        for xid, members in groups.items():
            row = self.rows.get(xid)
            best = members[0]
            if row is not None and len(members) > 1:
                best = min(
                    members,
                    key=lambda i: (
                        self.entries[i].st.st_ino != row.inode,
                        self.entries[i].name != row.name,
                    ),
                )
            keepers[xid] = best
            for index in members:
                entry = self.entries[index]
                if index != best and entry.st.st_ino == self.entries[best].st.st_ino:
                    entry.db_only = True  # a hard link shares the keeper's xattrs
        return keepers

    def _resolve(self) -> None:
        keepers = self._keepers()
        carried = set(keepers)
        claimed: set[str] = set()
        for index, entry in enumerate(self.entries):
            parent_id = self._parent_id(entry)
            node_id = None
            if entry.xid and keepers.get(entry.xid) == index:
                node_id = self._keep(entry, parent_id, claimed, carried)
            if node_id is None:
                node_id = self._by_place(entry, parent_id, claimed, carried)
            if node_id is None:
                node_id = self._new_id(entry, claimed)
            elif node_id != entry.xid and not entry.db_only:
                self._write_id(entry, node_id)
            claimed.add(node_id)
            entry.node_id = node_id

    def _keep(
        self, entry: Entry, parent_id: str, claimed: set[str], carried: set[str]
    ) -> str | None:
        """The entry's own id, unless that makes it a copy or a fresh temporary."""
        xid = str(entry.xid)
        row = self.rows.get(xid)
        if row is None or (row.parent_id, row.name) == (parent_id, entry.name):
            return xid
        replaced = self.by_place.get((parent_id, entry.name))
        if (
            replaced is not None
            and self.fresh(xid)
            and replaced not in claimed
            and replaced not in carried
            and not self.rows[replaced].is_dir
            and not entry.is_dir
        ):
            return replaced  # an editor's save: the new file takes the old id
        if row.inode == entry.st.st_ino or row.parent_id in self.walked:
            return xid  # renamed (same inode), or its old place was walked
        if self._still_there(row):
            return None  # a copy that carried the original's id
        return xid

    def _still_there(self, row: Row) -> bool:
        """Whether the row's file, outside the walked part, still carries its id."""
        path = self._path_of(row)
        return path is not None and ids.read_id(path) == row.id

    def _path_of(self, row: Row) -> Path | None:
        names: list[str] = []
        current: Row | None = row
        for _ in range(256):
            if current is None:
                return None
            if current.parent_id is None:
                return self.root.joinpath(*reversed(names))
            names.append(current.name)
            parent = current.parent_id
            current = self.rows.get(parent)
            if current is None:
                found = list(_rows(Node.id == parent))
                current = found[0] if found else None
        return None

    def _by_place(
        self, entry: Entry, parent_id: str, claimed: set[str], carried: set[str]
    ) -> str | None:
        """The id of the row at the entry's place, when that row is free to take."""
        node_id = self.by_place.get((parent_id, entry.name))
        if node_id is None or node_id in claimed or node_id in carried:
            return None
        row = self.rows[node_id]
        if row.is_dir != entry.is_dir:
            return None
        return node_id

    def _new_id(self, entry: Entry, claimed: set[str]) -> str:
        if not entry.db_only:
            # A request may have given it an id since the walk read it.
            current = ids.read_id(entry.path)
            if current and current != entry.xid and current not in claimed:
                return current
        node_id = ids.new_id()
        if not entry.db_only:
            self._write_id(entry, node_id)
        self.result.new_ids.append(node_id)
        return node_id

    def _write_id(self, entry: Entry, node_id: str) -> None:
        try:
            ids.write_id(entry.path, node_id)
        except OSError as error:
            logger.warning("cannot store id of %r: %s", entry.path, error)

    # -- writing -------------------------------------------------------------

    def _apply(self, scope: dict[str, str], *, full: bool) -> None:
        now = time.time_ns()
        inserts: list[dict[str, Any]] = []
        updates: list[tuple[Any, ...]] = []
        stale: list[str] = []
        dirty: set[str] = set()
        outside: set[str] = set()  # folders not walked whose members changed
        claimed = {entry.node_id for entry in self.entries}
        changes = follow.Changes()
        for entry in self.entries:
            parent_id = self._parent_id(entry)
            size = 0 if entry.is_dir else entry.st.st_size
            row = self.rows.get(entry.node_id)
            if row is None:
                inserts.append(self._new_row(entry, parent_id, size, now))
                dirty.add(parent_id)
                self.result.added += 1
                changes.created.append(entry.node_id)
                continue
            place = (row.parent_id, row.name, row.space_id)
            if place != (parent_id, entry.name, self.space_id):
                self.result.moved += 1
                changes.moved.append(entry.node_id)
                dirty.add(parent_id)
                if row.parent_id not in self.walked and row.parent_id is not None:
                    outside.add(row.parent_id)
                dirty.add(str(row.parent_id))
            content = (row.inode, row.size, row.mtime_ns) != (
                entry.st.st_ino,
                size,
                0 if entry.is_dir else entry.st.st_mtime_ns,
            )
            if content and not entry.is_dir:
                self.result.changed += 1
                dirty.add(parent_id)
                changes.updated.append(entry.node_id)
            if place != (parent_id, entry.name, self.space_id) or (
                content and (not entry.is_dir or row.inode != entry.st.st_ino)
            ):
                updates.append(
                    (
                        parent_id,
                        entry.name,
                        self.space_id,
                        entry.is_dir,
                        entry.st.st_ino,
                        size,
                        0 if entry.is_dir else entry.st.st_mtime_ns,
                        entry.node_id,
                    )
                )
                if content and not entry.is_dir:
                    stale.append(entry.node_id)
        gone = self._gone(scope, claimed, full=full)
        for row_id in gone:
            row = self.rows.get(row_id)
            if row is not None and row.parent_id is not None:
                dirty.add(row.parent_id)
                if row.parent_id not in self.walked:
                    outside.add(row.parent_id)
        self.result.removed = len(gone)
        changes.removed = self._tops(gone)
        self._write(inserts, updates, stale, gone)
        self._sizes(scope, dirty, outside, now)
        if dirty or outside:
            search_hooks.folders_changed(dirty | outside)
        if changes:
            follow.queue(self.space_id, changes)

    def _tops(self, gone: set[str]) -> list[str]:
        """Audit targets of the removed subtrees (a removed folder, not each
        member), read before their rows go."""
        targets = []
        for row_id in gone:
            row = self.rows.get(row_id)
            if row is None or row.parent_id in gone:
                continue
            path = self._path_of(row)
            if path is not None:
                parts = path.relative_to(self.root).parts
                targets.append(f"/{self.space_id}/{'/'.join(parts)}")
        return targets

    def _new_row(
        self, entry: Entry, parent_id: str, size: int, now: int
    ) -> dict[str, Any]:
        return {
            "id": entry.node_id,
            "space": self.space_id,
            "parent_id": parent_id,
            "name": entry.name,
            "is_dir": entry.is_dir,
            "inode": entry.st.st_ino,
            "size": size,
            "mtime_ns": 0 if entry.is_dir else entry.st.st_mtime_ns,
            "tree_mtime_ns": now,
            "tree_size": 0,
        }

    def _gone(
        self, scope: dict[str, str], claimed: set[str], *, full: bool
    ) -> set[str]:
        """Rows whose entries are gone, with every row below a gone folder."""
        # Only members of folders that were listed: a folder that could not be
        # listed (permissions) keeps its rows.
        gone = {
            row_id
            for row_id, row in self.rows.items()
            if row.parent_id in self.walked and row_id not in claimed
        }
        pending = [row_id for row_id in gone if self.rows[row_id].is_dir]
        while pending:
            batch, pending = pending[:CHUNK], pending[CHUNK:]
            for row in _rows(Node.parent_id.in_(batch)):
                if row.id not in claimed and row.id not in gone:
                    gone.add(row.id)
                    self.rows.setdefault(row.id, row)
                    if row.is_dir:
                        pending.append(row.id)
        return gone

    def _write(
        self,
        inserts: list[dict[str, Any]],
        updates: list[tuple[Any, ...]],
        stale: list[str],
        gone: set[str],
    ) -> None:
        database = db.database.obj
        p = database.param
        table = Node._meta.table_name
        move_sql = (
            f"UPDATE {table} SET parent_id={p}, name={p}, space_id={p}, is_dir={p}, "
            f"inode={p}, size={p}, mtime_ns={p} WHERE id={p}"
        )
        stale_sql = f"UPDATE {table} SET sha1=NULL, checksum_stamp=NULL WHERE id={p}"
        if self.space_id not in self.rows:
            root = os.stat(self.root)
            inserts.append(
                {
                    "id": self.space_id,
                    "space": self.space_id,
                    "parent_id": None,
                    "name": "",
                    "is_dir": True,
                    "inode": root.st_ino,
                    "size": 0,
                    "mtime_ns": 0,
                    "tree_mtime_ns": time.time_ns(),
                    "tree_size": 0,
                }
            )
        values = [tuple(row[c] for c in INSERT_COLUMNS) for row in inserts]
        insert_sql = _insert_sql(p)
        for start in range(0, len(values), WRITE_BATCH):
            with db.write():
                cursor = database.cursor()
                cursor.executemany(insert_sql, values[start : start + WRITE_BATCH])
        for start in range(0, max(len(updates), len(stale)), WRITE_BATCH):
            with db.write():
                cursor = database.cursor()
                cursor.executemany(move_sql, updates[start : start + WRITE_BATCH])
                cursor.executemany(
                    stale_sql, [(i,) for i in stale[start : start + WRITE_BATCH]]
                )
        for batch in _chunks(gone):
            with db.write():
                Node.delete().where(Node.id.in_(batch)).execute()

    # -- sizes and tree mtimes -------------------------------------------------

    def _sizes(
        self, scope: dict[str, str], dirty: set[str], outside: set[str], now: int
    ) -> None:
        """Recompute recursive sizes bottom-up; raise tree mtimes where changed."""
        members: dict[str, list[Entry]] = {}
        depth: dict[str, int] = {f: len(Path(p).parts) for f, p in scope.items()}
        scanned = set(scope) | {self.entries[i].node_id for i in self.scanned}
        for entry in self.entries:
            parent_id = self._parent_id(entry)
            members.setdefault(parent_id, []).append(entry)
            if entry.is_dir:
                depth.setdefault(entry.node_id, depth.get(parent_id, 0) + 1)
        computed: dict[str, int] = {}
        changed = set(dirty)
        for folder_id in sorted(scanned, key=lambda f: -depth.get(f, 0)):
            total = 0
            for member in members.get(folder_id, []):
                if not member.is_dir:
                    total += member.st.st_size
                    continue
                total += computed.get(member.node_id, self._stored(member.node_id))
                if member.node_id in changed:
                    changed.add(folder_id)
            computed[folder_id] = total
            row = self.rows.get(folder_id)
            if row is None or row.tree_size != total:
                changed.add(folder_id)
        changed_scanned = changed & scanned
        self.result.folders_changed = len(changed_scanned | outside)
        updates = [
            (total, now if folder_id in changed_scanned else None, folder_id)
            for folder_id, total in computed.items()
            if folder_id in changed_scanned or self._stored(folder_id) != total
        ]
        for start in range(0, len(updates), WRITE_BATCH):
            with db.write():
                for total, mtime, folder_id in updates[start : start + WRITE_BATCH]:
                    values: dict[Any, Any] = {Node.tree_size: total}
                    if mtime is not None:
                        values[Node.tree_mtime_ns] = mtime
                    Node.update(values).where(Node.id == folder_id).execute()
        # Above the walked part: each ancestor recomputed from its members' rows.
        chains = set(outside - scanned)
        for folder_id in changed_scanned & set(scope):
            row = self.rows.get(folder_id) or _one(folder_id)
            if row is not None and row.parent_id is not None:
                chains.add(row.parent_id)
        for folder_id in sorted(chains):
            recompute_chain(folder_id, now)

    def _stored(self, folder_id: str) -> int:
        row = self.rows.get(folder_id)
        return row.tree_size if row is not None else 0


def _one(node_id: str) -> Row | None:
    found = list(_rows(Node.id == node_id))
    return found[0] if found else None


def recompute_chain(folder_id: str | None, now: int | None = None) -> None:
    """Recompute the recursive size of ``folder_id`` and each ancestor from
    their members' rows, raising their tree mtime, in one transaction."""
    now = now or time.time_ns()
    with db.write():
        for _ in range(256):
            if folder_id is None:
                return
            members: Any = (
                Node.select(Node.is_dir, Node.size, Node.tree_size)
                .where(Node.parent_id == folder_id)
                .tuples()
            )
            total = 0
            for is_dir, size, tree_size in members:
                total += int(tree_size if is_dir else size)
            Node.update(tree_size=total, tree_mtime_ns=now).where(
                Node.id == folder_id
            ).execute()
            parent = Node.select(Node.parent_id).where(Node.id == folder_id).scalar()
            folder_id = parent


def scan_space(
    space: Space,
    root: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> ScanResult:
    """Reconcile a whole space with its tree on disk."""
    if not root.is_dir():
        logger.warning("space %s has no folder %r", space.id, str(root))
        return ScanResult()
    return Reconciler(space, root, progress=progress).run(
        [(str(space.id), str(root))], deep=True
    )


def choose_spaces(name: str | None) -> list[Space]:
    """All spaces, or the one named by id, drive id, folder or name."""
    if not name:
        return list(Space.select().order_by(Space.folder))
    key = name.rpartition("$")[2]
    found = Space.get_or_none(
        (Space.id == key) | (Space.folder == name.strip("/")) | (Space.name == name)
    )
    if found is None:
        raise NotFound(f"no space {name!r}")
    return [found]


def node_count(spaces: Iterable[Space]) -> int:
    """How many rows the spaces have: the expected length of a scan."""
    return int(Node.select().where(Node.space.in_([s.id for s in spaces])).count())


def scan_spaces(
    storage_dir: Path,
    spaces: Iterable[Space],
    *,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[Space, ScanResult]]:
    """Reconcile each space in turn, yielding its result."""
    for space in spaces:
        root = root_path(storage_dir, space)
        started = time.monotonic()
        result = scan_space(space, root, progress=progress)
        logger.info(
            "scanned %r in %.1f s: %s",
            space.folder,
            time.monotonic() - started,
            result.summary(),
        )
        yield space, result
