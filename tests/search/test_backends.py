"""Config picks the backend; FTS5 keeps its own file; the Elasticsearch
backend refuses a server its pinned client cannot speak to."""

from __future__ import annotations

from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from app.config import ConfigError
from app.search import backend as backends
from app.search.elastic import ElasticBackend, VersionMismatch
from app.search.fts import FtsBackend
from app.search.kql import parse
from app.search.query import Access
from tests.conftest import make_settings
from tests.search.es_standin import StandIn


def test_sqlite_is_the_default_in_a_file_of_its_own(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")

    found = backends.load(settings)

    assert isinstance(found, FtsBackend)
    assert found.path == settings.state_dir / "search" / "index.sqlite"
    assert found.path.is_file()
    found.close()


def test_config_selects_elasticsearch(tmp_path: Path, standin: StandIn) -> None:
    settings = make_settings(
        tmp_path / "data",
        search_backend="elasticsearch",
        search_elasticsearch_url=standin.url,
        search_elasticsearch_index="grove-config-test",
    )

    found = backends.load(settings)

    assert isinstance(found, ElasticBackend)
    assert found.index == "grove-config-test"
    assert found.count() == 0
    assert "PUT /grove-config-test" in standin.requests  # the index was made
    found.close()


def test_elasticsearch_without_a_url_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs search_elasticsearch_url"):
        make_settings(tmp_path / "data", search_backend="elasticsearch")


def test_a_server_of_another_major_version_is_refused() -> None:
    # The stand-in, told to answer as an Elasticsearch 8 server would.
    old = StandIn()
    old.version = "8.17.2"
    backend = ElasticBackend(Elasticsearch(old.url), "grove-version-test")
    try:
        with pytest.raises(VersionMismatch, match="'8.17.2'.*major version 9"):
            backend.search(parse("fox"), Access(frozenset({"s"})), limit=5)
        assert "grove-version-test" not in old.indices
    finally:
        backend.close()
        old.stop()
