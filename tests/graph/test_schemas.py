"""Request bodies never silently ignore a field: every property the Libre Graph
document gives a body Grove takes is either implemented or refused as
``notSupported``, and a property it does not know is refused as invalid.

The bodies are found by walking Grove's own /graph/openapi.json and matching
each operation with the official document's."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
from werkzeug.test import Client

from app.factory import create_app
from graph.api import GraphSchema
from graph.errors import NotSupported
from tests.conftest import make_settings
from tests.graph.contract import DOCUMENT

# Bodies that must be among those checked (the walk finds all of them).
EXPECTED = {
    ("patch", "/v1.0/me"),
    ("post", "/v1.0/me/changePassword"),
    ("post", "/v1.0/users"),
    ("patch", "/v1.0/users/{user_id}"),
    ("post", "/v1.0/groups"),
    ("patch", "/v1.0/groups/{group_id}"),
    ("post", "/v1.0/groups/{group_id}/members/$ref"),
    ("post", "/v1.0/drives"),
}


@functools.cache
def official() -> dict[str, Any]:
    import yaml

    with DOCUMENT.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)  # type: ignore[no-any-return]


@functools.cache
def groves_document(data: str) -> dict[str, Any]:
    app = create_app(make_settings(Path(data)))
    return Client(app).get("/graph/openapi.json").get_json()  # type: ignore[no-any-return]


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Properties of a body schema, through $ref and allOf."""
    if "$ref" in node:
        name = node["$ref"].rpartition("/")[2]
        return _resolve(official()["components"]["schemas"][name])
    found: dict[str, Any] = dict(node.get("properties") or {})
    for part in node.get("allOf", ()):
        found.update(_resolve(part))
    return found


def _schemas() -> dict[str, type[GraphSchema]]:
    found: dict[str, type[GraphSchema]] = {}
    pending = list(GraphSchema.__subclasses__())
    while pending:
        kind = pending.pop()
        found[kind.__name__] = kind
        pending += kind.__subclasses__()
    return found


def bodies(data: str) -> Iterator[tuple[str, str, type[GraphSchema], dict]]:
    """(method, path, Grove's schema, the document's properties) per body."""
    spec_paths = {_template(p): ops for p, ops in official()["paths"].items()}
    document = groves_document(data)  # imports the graph modules
    schemas = _schemas()
    for path, operations in document["paths"].items():
        path = path.removeprefix("/graph")
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            ref = operation["requestBody"]["content"]["application/json"]["schema"]
            spec = spec_paths.get(_template(path), {}).get(method)
            if spec is None:
                continue  # Grove's own extension: no document to match
            body = spec["requestBody"]["content"]["application/json"]["schema"]
            schema = schemas[ref["$ref"].rpartition("/")[2]]
            yield method, path, schema, _resolve(body)


def _names(schema: type[GraphSchema]) -> set[str]:
    fields = schema().fields.values()
    return {field.data_key or field.name for field in fields} | schema.NOT_SUPPORTED


def _missing(schema: type[GraphSchema], properties: dict[str, Any]) -> list[str]:
    missing = sorted(set(properties) - _names(schema))
    for name, field in schema().fields.items():
        wire = field.data_key or name
        nested = getattr(field, "nested", None)
        if wire in properties and isinstance(nested, type):
            inner = _resolve(properties[wire])
            missing += [f"{wire}.{m}" for m in _missing(nested, inner)]
    return missing


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("schemas") / "data")


def test_the_walk_finds_the_bodies(data: str) -> None:
    found = {(method, path) for method, path, _, _ in bodies(data)}

    assert found >= EXPECTED


def test_every_documented_field_is_taken_or_refused_as_not_supported(
    data: str,
) -> None:
    silent = {
        f"{method.upper()} {path} ({schema.__name__})": missing
        for method, path, schema, properties in bodies(data)
        if (missing := _missing(schema, properties))
    }

    assert silent == {}


def test_unsupported_fields_are_refused_and_unknown_ones_are_invalid(
    data: str,
) -> None:
    for _, _, schema, _ in bodies(data):
        with pytest.raises(ma.ValidationError):
            schema().load({"noSuchField": 1}, partial=True)
        for name in schema.NOT_SUPPORTED:
            with pytest.raises(NotSupported, match=re.escape(repr(name))):
                schema().load({name: None}, partial=True)
