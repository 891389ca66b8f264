"""Scanner daemons shared by the pipeline tests: one clamd and one c-icap per run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipeline.daemons import Clamd, Icap, start_c_icap, start_clamd


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "grove(**options): settings of the test's Grove (pipeline tests)"
    )


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    daemon = start_clamd(Path(tmp_path_factory.mktemp("clamd")))
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def c_icap(tmp_path_factory: pytest.TempPathFactory, clamd: Clamd) -> Iterator[Icap]:
    daemon = start_c_icap(Path(tmp_path_factory.mktemp("c-icap")), clamd)
    try:
        yield daemon
    finally:
        daemon.stop()
