"""Durable background jobs: huey's SQL storage in Grove's own database.

``@jobs.task("name")`` registers ``fn(grove, **kwargs)``; ``jobs.enqueue("name",
**kwargs)`` queues a call (keyword arguments must be JSON) as a row, so queued
jobs survive a restart. ``@jobs.periodic("name", minute=…)`` runs a function on
a crontab from the same queue. The serving process runs worker threads
(:func:`start_workers`, after any fork); ``grove worker`` runs them as a
process of their own. A job that was running when its process died is not
repeated: jobs are written so that the next run (or the periodic one) catches
up.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import peewee
from huey import crontab
from huey.api import Huey, TaskWrapper
from huey.consumer import Consumer
from huey.contrib.sql_huey import SqlStorage

from app import rows

if TYPE_CHECKING:
    from app.instance import Grove

logger = logging.getLogger(__name__)

Handler = Callable[..., None]
F = TypeVar("F", bound=Handler)

# Modules that define jobs: imported before a worker runs, so that a worker
# process knows every job the serving processes may queue.
TASK_MODULES: tuple[str, ...] = (
    "app.retention",
    "app.search.tasks",
    "app.storage.follow",
    "app.storage.sessions",
)

QUEUE = "grove"
RETRIES = 3
RETRY_DELAY = 30  # seconds


class UnknownJob(Exception):
    """No function is registered under the job's name."""


@dataclass(frozen=True)
class _Job:
    function: Handler
    retries: int
    retry_delay: int


@dataclass(frozen=True)
class _Periodic:
    function: Handler
    schedule: dict[str, str]


_jobs: dict[str, _Job] = {}
_periodic: dict[str, _Periodic] = {}
_state_lock = threading.Lock()


class _State:
    grove: Grove | None = None
    huey: Huey | None = None
    runner: TaskWrapper | None = None


_state = _State()


def task(
    name: str, *, retries: int = RETRIES, retry_delay: int = RETRY_DELAY
) -> Callable[[F], F]:
    """Register ``fn(grove, **kwargs)`` as the job ``name``."""

    def register(function: F) -> F:
        _jobs[name] = _Job(function, retries, retry_delay)
        return function

    return register


def periodic(name: str, **schedule: str) -> Callable[[F], F]:
    """Register ``fn(grove)`` to run on a crontab (huey's ``crontab`` arguments)."""

    def register(function: F) -> F:
        _periodic[name] = _Periodic(function, schedule)
        if _state.huey is not None:
            _add_periodic(_state.huey, name, _periodic[name])
        return function

    return register


class _JobStorage(SqlStorage):
    """huey's SQL storage with table names of Grove's own (not bare ``task``)."""

    def create_models(self) -> tuple[type[peewee.Model], ...]:
        models: tuple[type[peewee.Model], ...] = super().create_models()
        for model in models:
            model._meta.set_table_name("job_" + model._meta.table_name)
            # An index object made before the rename still names the old table.
            indexes = model._meta.indexes
            model._meta.indexes = [i for i in indexes if isinstance(i, tuple)]
            for index in indexes:
                if isinstance(index, peewee.ModelIndex):
                    model.add_index(*index._expressions)  # type: ignore[attr-defined]
        return models

    def enqueue(self, data: bytes, priority: float | None = None) -> None:
        # Compiled once (app/rows.py): every upload queues its indexing, and
        # peewee took longer to build this insert than SQLite to run it.
        self.check_conn()
        params = [self.name, data, priority or 0.0]
        rows.run(
            ("job", "enqueue"),
            lambda: self.Task.insert(queue=params[0], data=data, priority=params[2]),
            params,
        )

    def dequeue(self) -> bytes | None:
        """Take the next job (compiled as enqueue is: workers ask for each job)."""
        if self.for_update:
            return super().dequeue()  # type: ignore[no-any-return]
        self.check_conn()
        task = self.Task
        with self.atomic():
            found = rows.run(
                ("job", "next", self.name),
                lambda: (
                    self.tasks(task.id, task.data)
                    .order_by(task.priority.desc(), task.id)
                    .limit(1)
                ),
                [self.name, 1],
            ).fetchone()
            if found is None:
                return None
            taken = rows.run(
                ("job", "take"),
                lambda: task.delete().where(task.id == found[0]),
                [found[0]],
            )
            return bytes(found[1]) if taken.rowcount == 1 else None


def configure(grove: Grove) -> None:
    """Bind the queue to ``grove``'s database; creates the job tables if missing."""
    database = grove.database
    huey = Huey(
        QUEUE,
        results=False,
        storage_class=_JobStorage,
        database=database,
        create_tables=False,
    )
    storage = huey.storage
    database.create_tables(
        [storage.KV, storage.Schedule, storage.Task, storage.Counter], safe=True
    )
    runner = huey.task(name="grove.job")(_run)
    for name, entry in _periodic.items():
        _add_periodic(huey, name, entry)
    with _state_lock:
        _state.grove, _state.huey, _state.runner = grove, huey, runner


def _add_periodic(huey: Huey, name: str, entry: _Periodic) -> None:
    def run() -> None:
        _call(name, entry.function, {})

    huey.periodic_task(crontab(**entry.schedule), name=f"grove.periodic.{name}")(run)


def _run(name: str, payload: str) -> None:
    """The one huey task: look the job up by name and call it."""
    job = _jobs.get(name)
    if job is None:
        _import_task_modules()
        job = _jobs.get(name)
    if job is None:
        raise UnknownJob(f"no job named {name!r}")
    _call(name, job.function, json.loads(payload))


def _call(name: str, function: Handler, kwargs: dict[str, Any]) -> None:
    grove = _state.grove
    if grove is None:
        raise RuntimeError("the job queue is not configured")
    logger.debug("job %r starts", name)
    function(grove, **kwargs)


def _import_task_modules() -> None:
    for module in TASK_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
            logger.debug("job module %r not available", module)


def enqueue(name: str, /, **kwargs: Any) -> None:
    """Queue the job ``name`` durably, to run as soon as a worker is free."""
    enqueue_later(name, 0, **kwargs)


def enqueue_later(name: str, delay: float, /, **kwargs: Any) -> None:
    """Queue the job ``name`` durably, to run ``delay`` seconds from now."""
    runner = _state.runner
    if runner is None:
        raise RuntimeError("the job queue is not configured")
    payload = json.dumps(kwargs)  # refuses what JSON cannot carry, now
    job = _jobs.get(name)
    retries = job.retries if job else RETRIES
    retry_delay = job.retry_delay if job else RETRY_DELAY
    runner.schedule(
        (name, payload), delay=delay, retries=retries, retry_delay=retry_delay
    )


def pending() -> int:
    """Jobs queued and not yet taken by a worker (scheduled ones not counted)."""
    huey = _state.huey
    return 0 if huey is None else int(huey.pending_count())


def run_pending(limit: int = 1000) -> int:
    """Run queued jobs in this thread until none is left; the number run.

    For tests and one-off commands; errors are logged (and retried later) as a
    worker would.
    """
    huey = _state.huey
    if huey is None:
        raise RuntimeError("the job queue is not configured")
    count = 0
    while count < limit:
        queued = huey.dequeue()
        if queued is None:
            break
        huey.execute(queued)
        count += 1
    return count


def run_periodic_now() -> None:
    """Run every periodic job once in this thread (tests, ``grove worker --once``)."""
    _import_task_modules()
    for name, entry in _periodic.items():
        _call(name, entry.function, {})


class _QuietConsumer(Consumer):
    """huey's consumer without signal handlers: the serving process owns those."""

    def _set_signal_handlers(self) -> None:
        pass


class Workers:
    """Worker threads in this process; :meth:`stop` waits for running jobs."""

    def __init__(self, consumer: Consumer) -> None:
        self._consumer = consumer

    def stop(self, timeout: float = 10.0) -> None:
        self._consumer.shutdown_timeout = timeout
        self._consumer.stop(graceful=True)


def _consumer(threads: int, consumer_class: type[Consumer]) -> Consumer:
    huey = _state.huey
    if huey is None:
        raise RuntimeError("the job queue is not configured")
    _import_task_modules()
    # The queue is polled (SQL has no blocking read): idle workers back off to
    # max_delay seconds between looks, so an idle server writes little.
    return consumer_class(
        huey,
        workers=threads,
        periodic=True,
        initial_delay=0.1,
        backoff=1.5,
        max_delay=5.0,
        worker_type="thread",
        check_worker_health=False,
    )


def start_workers(threads: int = 2) -> Workers | None:
    """Start worker threads here; call after any fork (threads do not survive it)."""
    if threads <= 0:
        return None
    consumer = _consumer(threads, _QuietConsumer)
    consumer.start()
    logger.info("job workers started: %d threads", threads)
    return Workers(consumer)


def run_worker(threads: int = 2) -> None:
    """Run workers in the foreground until SIGINT or SIGTERM (``grove worker``)."""
    _consumer(threads, Consumer).run()
