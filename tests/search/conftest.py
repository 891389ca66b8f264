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
