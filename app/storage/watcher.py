"""Follow what other programs do in storage/: inotify (through watchdog) reports
changed folders, and a background thread reconciles them in batches.

The request path never waits on it: events only mark folders dirty (a set
under a lock); one applier thread reconciles the dirty folders of a batch
with :class:`app.storage.scan.Reconciler`, which updates the node table and
raises folder tree mtimes up to the space root. Reconciling is idempotent,
so Grove's own writes (already in the table) and its xattr writes (IN_ATTRIB)
cost one folder listing and change nothing.

One process per data folder watches: the holder of ``.grove/watcher.lock``.
Under gunicorn every worker tries to take it, so another worker takes over
when the watching one exits. An inotify queue overflow makes the next batch a
full scan; when the kernel's watch limit is reached, the log names the
setting to raise and the tree is scanned periodically instead.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import logging
import os
import threading
import time
import warnings
from pathlib import Path
from typing import IO

from watchdog.events import (
    DirModifiedEvent,
    FileClosedNoWriteEvent,
    FileOpenedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver
from watchdog.observers.inotify import InotifyEmitter, InotifyWatchGroup

from app.config import Settings
from app.models import Space
from app.storage import ids
from app.storage.scan import Reconciler, ScanResult, scan_space

logger = logging.getLogger(__name__)

# watchdog warns when a folder moved inside the tree gets its watch again;
# the watch is simply reused, nothing is lost.
warnings.filterwarnings(
    "ignore", message="Callback with id .* already exists", category=RuntimeWarning
)

LIMIT_SETTING = "fs.inotify.max_user_watches"
# The global limit, and the one of the user namespace the server runs in.
LIMIT_FILES = (
    "/proc/sys/fs/inotify/max_user_watches",
    "/proc/sys/user/max_inotify_watches",
)
LIMIT_FALLBACK_INTERVAL = 300  # seconds between scans when watches ran out
FRESH_SECONDS = 10.0  # how long a watcher-given id counts as unseen
FOLDERS_PER_RUN = 200
# Folders larger than this on disk (some 2,000 entries on ext4) are reconciled
# one at a time, after the small ones.
LARGE_FOLDER_BYTES = 64 * 1024


@dataclasses.dataclass
class _Folder:
    size: int
    space: Space
    node_id: str
    path: str


class _Signals:
    """What the inotify side tells the applier, outside the event stream."""

    def __init__(self) -> None:
        self.overflow = threading.Event()
        self.watch_limit = threading.Event()


class _GroveWatchGroup(InotifyWatchGroup):
    """watchdog's recursive watch group, reporting overflows and folders it
    could not watch (watchdog itself skips them silently)."""

    signals: _Signals

    def on_queue_overflow(self) -> None:
        super().on_queue_overflow()
        self.signals.overflow.set()

    def _add_callback(self, path: bytes) -> None:
        try:
            wd = self._inotify_fd.add_callback(
                path, self.event_mask, self._callback, self._id
            )
        except OSError as error:
            if error.errno == errno.ENOSPC:
                self.signals.watch_limit.set()
            if path == self.path:
                raise
            return
        self._active_callbacks_by_path[path] = wd
        self._active_callbacks_by_watch[wd] = path


def _observer(signals: _Signals) -> BaseObserver:
    class Emitter(InotifyEmitter):
        def on_thread_start(self) -> None:
            group = _GroveWatchGroup.__new__(_GroveWatchGroup)
            group.signals = signals
            group.__init__(  # type: ignore[misc]
                self._inotify_fd,
                os.fsencode(self.watch.path),
                is_recursive=self.watch.is_recursive,
                event_mask=self.get_event_mask_from_filter(),
                follow_symlink=self.watch.follow_symlink,
            )
            self._inotify = group

    return BaseObserver(emitter_class=Emitter, timeout=1.0)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, FileOpenedEvent | FileClosedNoWriteEvent):
            return
        paths = [os.fsdecode(event.src_path)]
        if isinstance(event, DirModifiedEvent):
            folders = paths
        else:
            dest = os.fsdecode(event.dest_path) if event.dest_path else ""
            folders = [os.path.dirname(p) for p in paths + ([dest] if dest else [])]
        self.watcher.mark(folders)


class Watcher:
    """Watches ``storage/`` and applies what it sees; see the module docstring."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.storage = settings.storage_dir
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._signals = _Signals()
        self._fresh: dict[str, float] = {}
        self._observer: BaseObserver | None = None
        self._thread: threading.Thread | None = None
        self._lock_file: IO[bytes] | None = None
        self.scans = 0  # full scans done (start, overflow, periodic)
        self.batches = 0
        self.watching = False
        self._limit_logged = False

    # -- events --------------------------------------------------------------

    def mark(self, folders: list[str]) -> None:
        """Called from watchdog's thread: remember folders, wake the applier."""
        with self._lock:
            self._dirty.update(folders)
        self._wake.set()

    def _take(self) -> set[str]:
        with self._lock:
            taken, self._dirty = self._dirty, set()
        return taken

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> bool:
        """Start watching if no other process of this data folder does."""
        handle = open(self.settings.state_dir / "watcher.lock", "a+b")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._lock_file = handle
        self._start_observer()
        self._thread = threading.Thread(
            target=self._run, name="grove-watcher", daemon=True
        )
        self._thread.start()
        return True

    def _start_observer(self) -> None:
        observer = _observer(self._signals)
        observer.schedule(_Handler(self), str(self.storage), recursive=True)
        try:
            observer.start()
        except OSError as error:
            if error.errno not in (errno.ENOSPC, errno.EMFILE):
                raise
            self._signals.watch_limit.set()
            logger.warning("cannot watch %r: %s", str(self.storage), error)
            return
        self._observer = observer
        self.watching = True

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=10)
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    # -- the applier thread --------------------------------------------------

    def _run(self) -> None:
        delay = self.settings.watch_batch_ms / 1000
        next_scan = 0.0  # a full scan at start: reconcile after downtime
        if not self.settings.scan_at_start:
            next_scan = self._next_scan_time()
        while not self._stop.is_set():
            try:
                if self._signals.watch_limit.is_set() and not self._limit_logged:
                    self._limit_logged = True
                    self._log_limit()
                    next_scan = min(next_scan, time.monotonic())
                if self._signals.overflow.is_set():
                    logger.warning(
                        "the inotify event queue overflowed (a burst of changes): "
                        "scanning the whole tree so that nothing is missed"
                    )
                    next_scan = time.monotonic()
                if time.monotonic() >= next_scan:
                    self._signals.overflow.clear()
                    self._take()
                    self._full_scan()
                    next_scan = self._next_scan_time()
                    continue
                self._wake.wait(timeout=1.0)
                if self._stop.is_set():
                    break
                if not self._wake.is_set():
                    continue
                self._wake.clear()
                # Coalesce: let a burst settle a moment, then take it all.
                time.sleep(delay)
                folders = self._take()
                if folders:
                    self._apply(folders)
            except Exception:  # noqa: BLE001 - the watcher must outlive any batch
                logger.exception("watcher batch failed; a full scan follows")
                time.sleep(1.0)
                next_scan = time.monotonic()

    def _next_scan_time(self) -> float:
        interval = self.settings.scan_interval
        if self._signals.watch_limit.is_set() and not interval:
            interval = LIMIT_FALLBACK_INTERVAL
        return time.monotonic() + interval if interval else float("inf")

    def _log_limit(self) -> None:
        limits = []
        for name in LIMIT_FILES:
            try:
                limits.append(int(Path(name).read_text()))
            except (OSError, ValueError):
                continue
        limit = str(min(limits)) if limits else "?"
        logger.warning(
            "the kernel's inotify watch limit (%s) is reached: changes in folders "
            "without a watch are found by periodic scans only; raise it with "
            "`sysctl -w %s=<more than the number of folders>` (and in "
            "/etc/sysctl.d/ to keep it)",
            limit,
            LIMIT_SETTING,
        )

    def _full_scan(self) -> None:
        started = time.monotonic()
        total = ScanResult()
        for space in Space.select():
            root = self.storage / space.folder
            total.merge(scan_space(space, root))
        self.scans += 1
        logger.info(
            "scan of the tree in %.1f s: %s",
            time.monotonic() - started,
            total.summary(),
        )

    def _fresh_id(self, node_id: str) -> bool:
        given = self._fresh.get(node_id)
        return given is not None and time.monotonic() - given < FRESH_SECONDS

    def _apply(self, folders: set[str]) -> None:
        """Reconcile ``folders``: small ones first, then each large one on its
        own, taking in folders marked meanwhile before the next large one, so
        that a burst into one folder does not hold back a change elsewhere."""
        started = time.monotonic()
        total = ScanResult()
        pending = self._sized(folders)
        while pending:
            small = [f for f in pending if f.size <= LARGE_FOLDER_BYTES]
            if small:
                pending = [f for f in pending if f.size > LARGE_FOLDER_BYTES]
                self._reconcile(small, total)
            else:
                self._reconcile([pending.pop(0)], total)
            arrived = self._take()
            if arrived:
                pending = self._sized(arrived) + pending
        now = time.monotonic()
        self._fresh = {k: v for k, v in self._fresh.items() if now - v < FRESH_SECONDS}
        for node_id in total.new_ids:
            self._fresh[node_id] = now
        self.batches += 1
        logger.debug(
            "watcher batch of %d folders in %.3f s: %s",
            len(folders),
            time.monotonic() - started,
            total.summary(),
        )

    def _sized(self, folders: set[str]) -> list[_Folder]:
        """The folders Grove knows, with their size on disk (a folder's own
        size grows with its number of entries), smallest first."""
        found: dict[str, _Folder] = {}
        for folder in folders:
            located = self._locate(folder)
            if located is None or located[1] in found:
                continue
            try:
                size = os.stat(located[2]).st_size
            except OSError:
                size = 0
            found[located[1]] = _Folder(size, *located)
        return sorted(found.values(), key=lambda f: f.size)

    def _reconcile(self, folders: list[_Folder], total: ScanResult) -> None:
        by_space: dict[str, tuple[Space, list[tuple[str, str]]]] = {}
        for folder in folders:
            entry = by_space.setdefault(str(folder.space.id), (folder.space, []))
            entry[1].append((folder.node_id, folder.path))
        for space, items in by_space.values():
            root = self.storage / space.folder
            for start in range(0, len(items), FOLDERS_PER_RUN):
                reconciler = Reconciler(space, root, fresh=self._fresh_id)
                result = reconciler.run(
                    items[start : start + FOLDERS_PER_RUN], deep=False
                )
                total.merge(result)

    def _locate(self, folder: str) -> tuple[Space, str, str] | None:
        """The space, id and path of the nearest folder at or above ``folder``
        that exists and is known to the table."""
        try:
            relative = Path(folder).relative_to(self.storage)
        except ValueError:
            return None
        parts = relative.parts
        if len(parts) < 2:
            return None  # storage/ or storage/users/: not in a space
        space = self._space(f"{parts[0]}/{parts[1]}")
        if space is None:
            return None
        root = self.storage / parts[0] / parts[1]
        inner = list(parts[2:])
        while True:
            path = root.joinpath(*inner)
            node_id = ids.read_id(path) if inner else str(space.id)
            if node_id is not None and _known(node_id) and path.is_dir():
                return space, node_id, str(path)
            if not inner:
                return space, str(space.id), str(root)
            inner.pop()

    def _space(self, folder: str) -> Space | None:
        cache: dict[str, Space] = getattr(self, "_spaces", {})
        if folder not in cache:
            found = Space.get_or_none(Space.folder == folder)
            if found is None:
                return None
            cache[folder] = found
            self._spaces = cache
        return cache[folder]


def _known(node_id: str) -> bool:
    from app.models import Node

    return bool(Node.select().where(Node.id == node_id).exists())


def start_watcher(settings: Settings, *, retry: float = 10.0) -> Watcher | None:
    """Start the watcher when config asks for it.

    If another process of this data folder watches already (a gunicorn
    worker), a daemon thread tries again every ``retry`` seconds, so that a
    worker takes over when the watching one exits.
    """
    if not settings.watch:
        return None
    watcher = Watcher(settings)
    if watcher.start():
        logger.info("watching %r for changes by other programs", str(watcher.storage))
        return watcher

    def take_over() -> None:
        while not watcher.start():
            time.sleep(retry)
        logger.info("watching %r (took over)", str(watcher.storage))

    threading.Thread(
        target=take_over, name="grove-watcher-standby", daemon=True
    ).start()
    return watcher
