"""Config picks the backend; FTS5 keeps its own file; the Elasticsearch
backend refuses a server its pinned client cannot speak to."""

from __future__ import annotations

from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from app.config import ConfigError
from app.errors import SearchUnavailable
from app.search import backend as backends
from app.search import service
from app.search.elastic import ElasticBackend, VersionMismatch
from app.search.fts import FtsBackend
from app.search.kql import parse
from app.search.query import Access
from tests.app.processes import environment, grove
from tests.conftest import free_port, make_settings, start_server
from tests.search.es_standin import StandIn

REPORT = (
    '<?xml version="1.0"?><oc:search-files xmlns:oc="http://owncloud.org/ns">'
    "<oc:search><oc:pattern>{}</oc:pattern></oc:search></oc:search-files>"
)


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


def test_an_unreachable_server_is_a_503_without_the_url(tmp_path: Path) -> None:
    # Nothing listens on this port: what a stopped Elasticsearch looks like.
    url = f"http://grove:s3cret@127.0.0.1:{free_port()}"
    settings = make_settings(
        tmp_path / "data",
        search_backend="elasticsearch",
        search_elasticsearch_url=url,
    )
    backend = backends.load(settings)
    with pytest.raises(SearchUnavailable) as raised:
        backend.search(parse("fox"), Access(frozenset({"s"})), limit=5)
    assert "s3cret" not in str(raised.value)
    backend.close()

    server, live = start_server(settings)
    try:
        live.add_user("alice")
        answer = live.session("alice").request(
            "REPORT", f"{live.dav()}/", data=REPORT.format("fox")
        )
        assert answer.status_code == 503
        assert "cannot be reached" in answer.text and "s3cret" not in answer.text
    finally:
        server.stop()
        service.reset()

    done = grove(
        "index",
        "rebuild",
        "--data",
        settings.data,
        env=environment(
            GROVE_SEARCH_BACKEND="elasticsearch", GROVE_SEARCH_ELASTICSEARCH_URL=url
        ),
    )
    assert done.returncode == 1
    assert "Error: the Elasticsearch server cannot be reached" in done.stderr
    assert "Traceback" not in done.stderr and "s3cret" not in done.stderr
