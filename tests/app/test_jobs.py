"""The durable job queue: jobs run with their arguments and survive a restart."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from app import jobs
from app.config import Settings
from app.instance import Grove

ran: list[dict[str, Any]] = []


@jobs.task("tests.record")
def record(grove: Grove, **kwargs: Any) -> None:
    ran.append({"data": str(grove.settings.data), **kwargs})


@jobs.task("tests.touch")
def touch(grove: Grove, name: str) -> None:
    (grove.settings.data / name).write_text("done")


def prepared(settings: Settings) -> Grove:
    grove = Grove(settings)
    grove.prepare()
    return grove


def test_a_queued_job_runs_with_its_arguments(settings: Settings) -> None:
    prepared(settings)
    ran.clear()

    jobs.enqueue("tests.record", name="a.txt", size=3)
    assert jobs.pending() == 1
    assert jobs.run_pending() == 1

    assert ran == [{"data": str(settings.data), "name": "a.txt", "size": 3}]
    assert jobs.pending() == 0


def test_arguments_that_are_not_json_are_refused(settings: Settings) -> None:
    prepared(settings)

    with pytest.raises(TypeError):
        jobs.enqueue("tests.record", path=Path("/tmp"))
    assert jobs.pending() == 0


def test_a_queued_job_survives_a_restart_and_runs_in_worker_threads(
    settings: Settings,
) -> None:
    first = prepared(settings)
    jobs.enqueue("tests.touch", name="marker")
    first.database.close()

    # A new process would start exactly like this: a fresh Grove, then workers.
    prepared(settings)
    workers = jobs.start_workers(1)
    assert workers is not None
    try:
        deadline = time.monotonic() + 10
        while not (settings.data / "marker").exists():
            assert time.monotonic() < deadline, "the job did not run"
            time.sleep(0.05)
    finally:
        workers.stop()
    assert jobs.pending() == 0
