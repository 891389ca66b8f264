"""The API's frame: its document, its page, its error answers, its sign-in."""

from __future__ import annotations

import requests

from tests.conftest import LiveServer
from tests.graph.contract import assert_conforms


def test_the_document_is_served_without_signing_in(live: LiveServer) -> None:
    answer = requests.get(f"{live.url}/graph/openapi.json", timeout=10)

    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"].startswith("3.")
    assert "basic" in document["components"]["securitySchemes"]


def test_the_browsable_page_loads_its_scripts_from_grove(live: LiveServer) -> None:
    page = requests.get(f"{live.url}/graph/docs", timeout=10)

    assert page.status_code == 200
    assert 'src="docs-assets/swagger-ui-bundle.js"' in page.text
    script = requests.get(
        f"{live.url}/graph/docs-assets/swagger-ui-bundle.js", timeout=10
    )
    assert script.status_code == 200
    assert len(script.content) > 100_000


def test_an_api_path_without_credentials_is_a_json_401(live: LiveServer) -> None:
    answer = requests.get(f"{live.url}/graph/v1.0/me", timeout=10)

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"
    assert_conforms(answer)


def test_an_unknown_api_path_is_a_json_404(
    alice: requests.Session, live: LiveServer
) -> None:
    answer = alice.get(f"{live.url}/graph/v1.0/no-such-thing", timeout=10)

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "itemNotFound"


def test_paths_outside_the_api_keep_their_plain_errors(live: LiveServer) -> None:
    answer = requests.get(f"{live.url}/no-such-page", timeout=10)

    assert answer.status_code == 404
    assert "error" not in answer.text[:20]
