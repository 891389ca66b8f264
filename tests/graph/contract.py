"""Compatibility check: a /graph answer must fit the official Libre Graph document.

``assert_conforms(response)`` validates a ``requests`` response or a Flask test
response (with the request that produced it) against
tests/data/libregraph-v1.0.yaml with openapi-core. Grove's own
``/graph/openapi.json`` proves self-consistency; this proves that OpenCloud's
clients, written against the official document, understand the answer.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import (
    RequestsOpenAPIRequest,
    RequestsOpenAPIResponse,
)
from openapi_core.contrib.werkzeug import (
    WerkzeugOpenAPIRequest,
    WerkzeugOpenAPIResponse,
)
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest

DOCUMENT = Path(__file__).parent.parent / "data" / "libregraph-v1.0.yaml"
# The document's server: requests are presented as if they had gone there.
SERVER = "https://localhost:9200"


@functools.cache
def official() -> OpenAPI:
    with DOCUMENT.open(encoding="utf-8") as stream:
        return OpenAPI.from_dict(_string_keys(yaml.safe_load(stream)))


def _string_keys(node: Any) -> Any:
    """YAML reads unquoted status codes (``200:``) as integers; JSON Schema wants
    strings."""
    if isinstance(node, dict):
        return {str(key): _string_keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_string_keys(item) for item in node]
    return node


def _requests_pair(response: requests.Response) -> tuple[Any, Any]:
    sent = response.request.copy()
    parts = urlsplit(str(sent.url))
    sent.url = f"{SERVER}{parts.path}" + (f"?{parts.query}" if parts.query else "")
    return RequestsOpenAPIRequest(sent), RequestsOpenAPIResponse(response)


def _werkzeug_pair(response: Any) -> tuple[Any, Any]:
    environ = copy.copy(response.request.environ)
    builder = EnvironBuilder(
        path=environ.get("PATH_INFO", "/"),
        base_url=SERVER,
        query_string=environ.get("QUERY_STRING", ""),
        method=environ.get("REQUEST_METHOD", "GET"),
        headers={"Content-Type": environ.get("CONTENT_TYPE", "")},
    )
    request = WerkzeugRequest(builder.get_environ())
    return WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response)


def assert_conforms(response: Any) -> None:
    """Fail unless ``response`` is what the official document allows there."""
    if isinstance(response, requests.Response):
        request, answer = _requests_pair(response)
    else:
        request, answer = _werkzeug_pair(response)
    errors = [
        _describe(error) for error in official().iter_response_errors(request, answer)
    ]
    assert not errors, (
        f"{request.method.upper()} {request.path} -> {response.status_code} "
        f"contradicts the Libre Graph document: {errors}\nbody: {_body(response)}"
    )


def _describe(error: Exception) -> str:
    """The error with the schema violations openapi-core keeps in its cause."""
    found = [str(error)]
    cause = error.__cause__
    if cause is not None:
        found.append(str(cause))
        for detail in getattr(cause, "schema_errors", ()):
            found.append(f"{list(detail.absolute_path)}: {detail.message}")
    return " | ".join(found)


def _body(response: Any) -> str:
    text = response.text if hasattr(response, "text") else response.get_data(True)
    return str(text)[:2000]
