"""The libre-graph REST API under ``/graph``: one flask-smorest Api, its error
answers, its schemas' base class and the blueprints it serves.

A graph module builds a :class:`Blueprint` (``create_blueprint(grove)``) with
routes such as ``/v1.0/me``; :func:`_blueprints` lists it and :func:`mount`
registers it under ``/graph``. The document is served at
``/graph/openapi.json`` and browsable at ``/graph/docs``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import flask_smorest
import marshmallow as ma
import swagger_ui_bundle
from flask import Flask, Response, request, send_from_directory
from flask.typing import ResponseReturnValue
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from app.errors import BadRequest
from app.instance import Grove
from graph import caller
from graph.errors import NotSupported, json_error

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

PREFIX = "/graph"
# Paths that answer only to a signed-in caller; the document and its page are open.
PROTECTED = (f"{PREFIX}/v1.0/", f"{PREFIX}/v1beta1/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Swagger UI's scripts ship in a Python package: the page works offline.
ASSETS = Path(swagger_ui_bundle.swagger_ui_path)

_CODES = {
    400: "invalidRequest",
    401: "unauthenticated",
    403: "accessDenied",
    404: "itemNotFound",
    405: "notAllowed",
    406: "invalidRequest",
    409: "nameAlreadyExists",
    412: "preconditionFailed",
    413: "invalidRequest",
    415: "invalidRequest",
    423: "itemIsLocked",
    429: "tooManyRequests",
    507: "quotaLimitReached",
}


class ErrorMain(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)


class Error(ma.Schema):
    """``odata.error`` as the libre-graph document has it (for the docs only)."""

    error = ma.fields.Nested(ErrorMain, required=True)


class GraphSchema(ma.Schema):
    """Base of every request and response schema.

    Unknown fields are refused (400 ``invalidRequest``). Fields the libre-graph
    document defines but Grove does not implement are named in
    ``NOT_SUPPORTED`` and refused with 400 ``notSupported`` (docs/api.md lists
    them): a client must never believe a field took effect when it did not.
    """

    NOT_SUPPORTED: ClassVar[frozenset[str]] = frozenset()

    class Meta:
        unknown = ma.RAISE
        ordered = True

    @ma.pre_load
    def _refuse_unsupported(self, data: Any, **_: Any) -> Any:
        if isinstance(data, Mapping):
            for name in data:
                if name in self.NOT_SUPPORTED:
                    raise NotSupported(f"{name!r} is not supported by Grove")
        return data


class QuerySchema(ma.Schema):
    """Base of query-string schemas: OData clients add parameters of their own
    (``$count``, cache busters), which are ignored rather than refused."""

    class Meta:
        unknown = ma.EXCLUDE


class _Parser(FlaskParser):
    # A request that does not fit the schema is the client's error (400), as
    # the libre-graph document says, not flask-smorest's default 422.
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            # json.loads recurses once per nesting level.
            raise BadRequest("the JSON body is nested too deeply") from None


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest Blueprint whose argument errors answer 400, with typed
    decorators (flask-smorest has no type hints)."""

    ARGUMENTS_PARSER = _Parser()

    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        decorator: Callable[[F], F] = super().route(rule, **options)
        return decorator

    def arguments(self, schema: Any, **options: Any) -> Callable[[F], F]:
        decorator: Callable[[F], F] = super().arguments(schema, **options)
        return decorator

    def response(
        self, status_code: int, schema: Any = None, **options: Any
    ) -> Callable[[F], F]:
        decorator: Callable[[F], F] = super().response(status_code, schema, **options)
        return decorator


def _flatten(messages: Any, at: str = "") -> list[str]:
    if isinstance(messages, Mapping):
        found: list[str] = []
        for key, value in messages.items():
            found += _flatten(value, f"{at}.{key}" if at else str(key))
        return found
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{at}: {' '.join(messages)}" if at else " ".join(messages)]
    if isinstance(messages, list):
        return [line for item in messages for line in _flatten(item, at)]
    return [f"{at}: {messages}" if at else str(messages)]


class Api(flask_smorest.Api):
    """The Api whose errors are ``{"error": {"code", "message"}}``."""

    ERROR_SCHEMA = Error

    def handle_http_exception(self, error: HTTPException) -> ResponseReturnValue:
        if not request.path.startswith(PREFIX + "/"):
            return error.get_response()
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        messages = data.get("messages") or data.get("errors")
        if messages:
            # webargs nests messages by location ("json", "query"): drop that level.
            if isinstance(messages, Mapping) and len(messages) == 1:
                messages = next(iter(messages.values()))
            message = "; ".join(_flatten(messages))
        elif status >= 500:
            message = "internal error"
        else:
            message = data.get("message") or error.description or error.name
        answer = json_error(status, _CODES.get(status, "generalException"), message)
        if status == 405:
            allowed = getattr(error, "valid_methods", None)
            if allowed:
                answer.headers["Allow"] = ", ".join(allowed)
        return answer


def _authenticate() -> None:
    """Every API path needs a caller; read-only credentials may only read."""
    if request.path.startswith(PROTECTED):
        caller.principal(write=request.method not in SAFE_METHODS)


def _blueprints(grove: Grove) -> list[flask_smorest.Blueprint]:
    """The API's blueprints: one line per graph module."""
    # Imported here: the modules import this one for Blueprint and GraphSchema.
    from graph import (
        app_roles,
        audit,
        drive_items,
        drives,
        favorites,
        groups,
        me,
        role_definitions,
        shared,
        sharing,
        space_links,
        space_members,
        tags,
        trash,
        users,
    )

    return [
        me.create_blueprint(grove),
        users.create_blueprint(grove),
        groups.create_blueprint(grove),
        app_roles.create_blueprint(grove),
        role_definitions.create_blueprint(grove),
        drives.create_blueprint(grove),
        drive_items.create_blueprint(grove),
        space_members.create_blueprint(grove),
        space_links.create_blueprint(grove),
        sharing.create_blueprint(grove),
        shared.create_blueprint(grove),
        tags.create_blueprint(grove),
        favorites.create_blueprint(grove),
        trash.create_blueprint(grove),
        audit.create_blueprint(grove),
    ]


def _serve_asset(name: str) -> Response:
    return send_from_directory(ASSETS, name, max_age=3600)


def mount(web: Flask, grove: Grove) -> Api:
    """Serve the API under /graph in ``web``."""
    web.config.update(
        API_TITLE="Grove graph API",
        API_VERSION="v1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Relative to /graph/docs: also right behind a proxy's path prefix.
        OPENAPI_SWAGGER_UI_URL="docs-assets/",
        API_SPEC_OPTIONS={
            "info": {
                "description": "The libre-graph compatible API of Grove. "
                "See docs/api.md for authentication, errors and roles."
            },
            "components": {
                "securitySchemes": {
                    "basic": {"type": "http", "scheme": "basic"},
                    "bearer": {"type": "http", "scheme": "bearer"},
                }
            },
            "security": [{"basic": []}, {"bearer": []}],
        },
    )
    api = Api(web)
    web.add_url_rule(
        f"{PREFIX}/docs-assets/<path:name>", "graph_docs_assets", _serve_asset
    )
    web.before_request(_authenticate)
    for blueprint in _blueprints(grove):
        api.register_blueprint(blueprint, url_prefix=PREFIX)
    return api
