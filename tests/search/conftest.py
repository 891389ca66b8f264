"""Backends for the search contract suite: every backend runs every test.

``fts5`` is SQLite FTS5 in a temporary file. ``elasticsearch-standin`` is
the Elasticsearch backend against tests/search/es_standin.py, a STAND-IN
written from the Elasticsearch API documentation (no server can be
installed here). ``elasticsearch-server`` runs only when
GROVE_TEST_ELASTICSEARCH_URL names a real server (major version 9); the
test ids in the report say which of them ran.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from app.search.backend import Backend
from app.search.elastic import ElasticBackend
from app.search.fts import FtsBackend
from tests.search.es_standin import StandIn

SERVER_URL = os.environ.get("GROVE_TEST_ELASTICSEARCH_URL", "")
KINDS = ["fts5", "elasticsearch-standin"] + (
    ["elasticsearch-server"] if SERVER_URL else []
)


def pytest_report_header() -> str:
    if SERVER_URL:
        return (
            "search backends: fts5, elasticsearch-standin (stand-in from the API "
            f"documentation), elasticsearch-server ({SERVER_URL.split('@')[-1]})"
        )
    return (
        "search backends: fts5, elasticsearch-standin (a stand-in written from the "
        "Elasticsearch API documentation; GROVE_TEST_ELASTICSEARCH_URL unset: no "
        "real Elasticsearch server)"
    )


BACKEND_IDS = ("fts5", "elasticsearch-standin", "elasticsearch-server")
NAMES = {
    "fts5": "SQLite FTS5",
    "elasticsearch-standin": (
        "Elasticsearch backend against the STAND-IN written from the API "
        "documentation (tests/search/es_standin.py), not a real server"
    ),
    "elasticsearch-server": "Elasticsearch backend against a REAL server",
}
_outcomes: dict[str, dict[str, int]] = {}


def _backend_of(nodeid: str) -> str | None:
    params = nodeid.rpartition("[")[2] if nodeid.endswith("]") else ""
    return next((kind for kind in BACKEND_IDS if kind in params), None)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Called for the tests below this folder (conftest hooks are per folder).
    kind = _backend_of(report.nodeid)
    if kind is None or (report.when != "call" and not report.skipped):
        return
    counts = _outcomes.setdefault(kind, {})
    counts[report.outcome] = counts.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say plainly which search backends the tests ran against."""
    if not _outcomes:
        return
    terminalreporter.section("search backends")
    for kind in BACKEND_IDS:
        counts = _outcomes.get(kind)
        if counts:
            told = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
            terminalreporter.write_line(f"{kind}: {told} - {NAMES[kind]}")
    if "elasticsearch-server" not in _outcomes:
        terminalreporter.write_line(
            "elasticsearch-server: not run (GROVE_TEST_ELASTICSEARCH_URL unset)"
        )


@pytest.fixture(scope="session")
def standin() -> Iterator[StandIn]:
    server = StandIn()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=KINDS)
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, standin: StandIn
) -> Iterator[Backend]:
    kind = request.param
    found: Backend
    if kind == "fts5":
        found = FtsBackend(tmp_path / "index.sqlite")
    else:
        url = standin.url if kind == "elasticsearch-standin" else SERVER_URL
        index = f"grove-test-{uuid.uuid4().hex[:12]}"
        found = ElasticBackend(Elasticsearch(url, request_timeout=30), index)
    try:
        yield found
    finally:
        if isinstance(found, ElasticBackend):
            found.client.indices.delete(index=found.index, ignore_unavailable=True)
        found.close()
