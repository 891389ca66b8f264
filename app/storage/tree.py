"""One space's folder tree as Grove sees it: items with ids, ETags and sizes.

The disk is the truth; the ``node`` table remembers ids, checksums and the
tree mtime and size of folders. Listings come from one directory scan plus one
query for the folder's children; entries the database does not know yet get
their id on first sight.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import stat
import time
from pathlib import Path
from typing import Any

from peewee import BooleanField

from app import db, rows
from app.models import Node, Space
from app.storage import ids
from app.storage.paths import entry_stat, resolve

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Item:
    """A file or folder that exists on disk, with its node row."""

    tree: SpaceTree
    parts: list[str]
    path: Path
    row: Node
    st: os.stat_result
    ancestor_ids: list[str]
    # A symlink to a file in the space (app.storage.paths.followable): ``st``
    # is its target's; permissions are also decided on the target (app.acl).
    link: bool = False

    @property
    def id(self) -> str:
        return str(self.row.id)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.st.st_mode)

    @property
    def name(self) -> str:
        return self.parts[-1] if self.parts else ""

    @property
    def size(self) -> int:
        return int(self.row.tree_size) if self.is_dir else self.st.st_size

    @property
    def etag(self) -> str:
        if self.is_dir:
            return ids.folder_etag(self.id, self.row.tree_mtime_ns, self.st)
        return ids.file_etag(self.id, self.st)

    @property
    def current(self) -> bool:
        """Whether the row's checksum and type describe the content on disk."""
        return not self.is_dir and self.row.checksum_stamp == ids.content_stamp(self.st)

    @property
    def sha1(self) -> str | None:
        """The SHA1 of the content, only while it is known to be current."""
        return str(self.row.sha1) if self.current else None

    @property
    def mime(self) -> str | None:
        """The type detected from the content (app/pipeline), while current."""
        found = self.row.mime if self.current else None
        return str(found) if found else None

    @property
    def lineage(self) -> list[str]:
        """Ids of the folders whose tree mtime a change here raises."""
        return self.ancestor_ids + ([self.id] if self.is_dir else [])


def _rows_by_name(parent_id: str) -> dict[str, Node]:
    """The rows of a folder's members by name, in one query.

    Compiled once and built from plain tuples: peewee's query building, row
    wrapper and model constructor cost more than the query itself for a
    folder of 10,000 files.
    """
    fields = Node._meta.sorted_fields
    names = [field.name for field in fields]
    flags = [i for i, field in enumerate(fields) if isinstance(field, BooleanField)]
    cursor = rows.run(
        ("members",),
        lambda: Node.select().where(Node.parent_id == parent_id),
        [parent_id],
    )
    out: dict[str, Node] = {}
    for values in cursor:
        data = dict(zip(names, values, strict=True))
        for index in flags:
            data[names[index]] = bool(values[index])
        row = Node.__new__(Node)
        # What peewee's Model.__init__ sets, without its per-field work.
        row.__dict__ = {"__data__": data, "_dirty": set(), "__rel__": {}}
        out[data["name"]] = row
    return out


def touch_rows(lineage: list[str], size_delta: int = 0) -> None:
    """``SpaceTree.touch`` inside the caller's write transaction."""
    if not lineage:
        return
    now = time.time_ns()
    # Compiled once per length (app/rows.py): every upload runs it.
    rows.run(
        ("touch", len(lineage)),
        lambda: Node.update(
            tree_mtime_ns=now, tree_size=Node.tree_size + size_delta
        ).where(Node.id.in_(lineage)),
        [now, size_delta, *lineage],
    )


class _Member(Item):
    """A listed member: its ``Path`` is made when first asked for, since a
    listing of 10,000 files spent a tenth of its time making Paths it never
    used; its id and kind are computed once (a PROPFIND asks each several
    times per entry)."""

    def __init__(
        self,
        tree: SpaceTree,
        parts: list[str],
        entry_path: str,
        row: Node,
        st: os.stat_result,
        ancestor_ids: list[str],
        link: bool = False,
    ) -> None:
        self.tree, self.parts, self.row, self.st = tree, parts, row, st
        self.ancestor_ids = ancestor_ids
        self.link = link
        self._entry_path = entry_path

    @functools.cached_property
    def id(self) -> str:
        return str(self.row.id)

    @functools.cached_property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.st.st_mode)

    @functools.cached_property
    def current(self) -> bool:
        return Item.current.fget(self)  # type: ignore[attr-defined,no-any-return]

    def __getattr__(self, name: str) -> Any:
        if name != "path":
            raise AttributeError(name)
        self.path = Path(self._entry_path)
        return self.path


class SpaceTree:
    """Bookkeeping for one space rooted at ``root``."""

    def __init__(self, space: Space, root: Path) -> None:
        self.space = space
        self.root = root

    def item(self, parts: list[str]) -> Item | None:
        path, exists = resolve(self.root, parts)
        if not exists:
            return None
        actual = list(path.relative_to(self.root).parts) if parts else []
        try:
            st = os.stat(path)
        except OSError:
            return None
        if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
            # FIFOs, sockets and devices are not files a client can use: a read
            # of a FIFO would block a worker thread until someone writes to it.
            return None
        ancestors: list[str] = []
        parent_id: str | None = None
        for depth in range(len(actual)):
            node_id = self._folder_id(actual[:depth], parent_id)
            ancestors.append(node_id)
            parent_id = node_id
        name = actual[-1] if actual else ""
        link = path.is_symlink()
        row = self._adopt(path, st, parent_id, name, link=link)
        return Item(self, actual, path, row, st, ancestors, link)

    def children(self, folder: Item) -> list[Item]:
        """The members of ``folder``, registering new ones and forgetting gone ones."""
        known = _rows_by_name(folder.id)
        lineage = folder.ancestor_ids + [folder.id]
        out: list[Item] = []
        delta = 0
        changed: list[Node] = []
        gone: list[Node] = []
        with os.scandir(folder.path) as entries:
            for entry in entries:
                st = entry_stat(self.root, entry)
                if st is None:
                    continue
                is_file = not stat.S_ISDIR(st.st_mode)
                row = known.pop(entry.name, None)
                if row is not None and row.inode == st.st_ino:
                    if is_file and (
                        row.size != st.st_size or row.mtime_ns != st.st_mtime_ns
                    ):
                        delta += st.st_size - row.size
                        row.size, row.mtime_ns = st.st_size, st.st_mtime_ns
                        changed.append(row)
                else:
                    old = row
                    path = Path(entry.path)
                    row = self._adopt(
                        path, st, folder.id, entry.name, link=entry.is_symlink()
                    )
                    if old is not None and old.id == row.id:
                        # Same node, new inode: replaced on disk (or a link's
                        # target replaced), so its row follows.
                        delta += st.st_size - old.size if is_file else 0
                        row.inode, row.mtime_ns = st.st_ino, st.st_mtime_ns
                        row.size = st.st_size if is_file else 0
                        changed.append(row)
                    else:
                        if old is not None:
                            gone.append(old)
                        delta += st.st_size if is_file else 0
                parts = folder.parts + [entry.name]
                member = _Member(
                    self, parts, entry.path, row, st, lineage, entry.is_symlink()
                )
                out.append(member)
        listed = {str(member.id) for member in out}
        # A row whose file was renamed within the folder is listed under its new
        # name (found by its id), not gone.
        gone = [row for row in [*gone, *known.values()] if str(row.id) not in listed]
        if changed or gone:
            with db.write():
                for row in changed:
                    row.save()
                if gone:
                    Node.delete().where(Node.id.in_([row.id for row in gone])).execute()
            self._follow(
                updated=[str(row.id) for row in changed if not row.is_dir],
                removed=[self._target(folder.parts + [str(r.name)]) for r in gone],
            )
        delta -= sum(row.size if not row.is_dir else row.tree_size for row in gone)
        if delta or gone or changed:
            self.touch(lineage, delta)
            folder.row = Node.get_by_id(folder.id)
        return out

    def touch(self, lineage: list[str], size_delta: int = 0) -> None:
        """Raise the tree mtime (and add to the size) of every folder in ``lineage``."""
        if not lineage:
            return
        with db.write():
            touch_rows(lineage, size_delta)

    def _folder_id(self, parts: list[str], parent_id: str | None) -> str:
        if not parts:
            return str(self.space.id)
        path = self.root.joinpath(*parts)
        node_id = ids.read_id(path)
        if node_id is None:
            node_id = self._adopt(path, os.stat(path), parent_id, parts[-1]).id
        return node_id

    def _adopt(
        self,
        path: Path,
        st: os.stat_result,
        parent_id: str | None,
        name: str,
        *,
        link: bool = False,
    ) -> Node:
        """The node row for a file on disk, giving it an id on first sight.

        A symlink (to a file in the space) cannot carry an extended attribute
        of its own, and reading one would read its target's: its id lives in
        the database only, found by its place.
        """
        row: Node | None
        if link:
            row = Node.get_or_none((Node.parent_id == parent_id) & (Node.name == name))
            node_id = str(row.id) if row is not None else None
        elif parent_id is None:
            node_id = str(self.space.id)
        else:
            node_id = ids.read_id(path) or self._replaced(path, st, parent_id, name)
        row = rows.first(Node, id=node_id) if node_id else None
        if row is not None and (row.parent_id, row.name) != (parent_id, name):
            if row.inode != st.st_ino:
                # A copy that carried the original's id (cp -a, rsync -X).
                row, node_id = None, None
            elif st.st_nlink > 1 and self._still_linked(row, st):
                # A second hard link: it shares the first's attributes, so its
                # own id lives in the database only.
                row = Node.get_or_none(
                    (Node.parent_id == parent_id) & (Node.name == name)
                )
                node_id, link = (str(row.id) if row is not None else None), True
            else:
                row.parent_id, row.name = parent_id, name
                with db.write():
                    row.save()
                self._follow(moved=[str(row.id)])
        if row is not None:
            return row
        if node_id is None:
            node_id = ids.new_id()
            try:
                if not link:
                    ids.write_id(path, node_id)
            except OSError as error:
                logger.warning("cannot store id of %r: %s", str(path), error)
        row = Node(
            id=node_id,
            space=self.space.id,
            parent_id=parent_id,
            name=name,
            is_dir=stat.S_ISDIR(st.st_mode),
            inode=st.st_ino,
            size=0 if stat.S_ISDIR(st.st_mode) else st.st_size,
            mtime_ns=st.st_mtime_ns,
            tree_mtime_ns=time.time_ns(),
        )
        with db.write():
            Node.insert(**row.__data__).on_conflict_replace().execute()
        self._follow(created=[node_id])
        return row

    def _still_linked(self, row: Node, st: os.stat_result) -> bool:
        """Whether the row's own place still holds the file ``st`` describes."""
        from app.storage import lookup  # it imports this module

        found = lookup.parts_of(str(row.id))
        if found is None:
            return False
        space, parts = found
        storage = self.root.parents[len(Path(str(self.space.folder)).parts) - 1]
        try:
            path = storage / str(space.folder) / Path(*parts) if parts else None
            if path is None:
                return False
            return os.stat(path, follow_symlinks=False).st_ino == st.st_ino
        except OSError:
            return False

    def _replaced(
        self, path: Path, st: os.stat_result, parent_id: str, name: str
    ) -> str | None:
        """The id of the file that a file without an id was renamed over (an
        editor's save: write a temporary file, rename it over the original),
        or of the same file whose attribute was lost; None for a new file.

        Only the attribute is written: the row keeps its old inode and size, so
        the next listing or watcher batch sees the change and brings the row
        and the folder sizes in step, as for any rewrite.
        """
        row = Node.get_or_none((Node.parent_id == parent_id) & (Node.name == name))
        if row is None or row.is_dir or not stat.S_ISREG(st.st_mode):
            return None
        try:
            ids.write_id(path, str(row.id))
        except OSError as error:
            logger.warning("cannot store id of %r: %s", str(path), error)
            return None
        return str(row.id)

    def _target(self, parts: list[str]) -> str:
        return f"/{self.space.id}/{'/'.join(parts)}"

    def _follow(self, **changes: list[str]) -> None:
        """A request found a change another program made: queue what follows."""
        from app.storage import follow  # it imports this module

        found = follow.Changes(**changes)
        if found:
            follow.queue(str(self.space.id), found)
