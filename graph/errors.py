"""The API's error answers: core errors become libre-graph JSON errors."""

from __future__ import annotations

from flask import Flask, Response, jsonify

from app import errors

_STATUS: tuple[tuple[type[errors.GroveError], int, str], ...] = (
    (errors.BadRequest, 400, "invalidRequest"),
    (errors.Unauthorized, 401, "unauthenticated"),
    (errors.Forbidden, 403, "accessDenied"),
    (errors.NotFound, 404, "itemNotFound"),
    (errors.Conflict, 409, "conflict"),
    (errors.PreconditionFailed, 412, "preconditionFailed"),
    (errors.Locked, 423, "itemIsLocked"),
    (errors.Throttled, 429, "tooManyRequests"),
    (errors.InsufficientStorage, 507, "quotaLimitReached"),
    (errors.TooLarge, 413, "tooLarge"),
    (errors.UnsupportedType, 415, "unsupportedType"),
    (errors.ScannerUnavailable, 503, "serviceNotAvailable"),
    (errors.SearchUnavailable, 503, "serviceNotAvailable"),
)


class NotSupported(Exception):
    """A request field the libre-graph document knows and Grove does not implement."""


def json_error(status: int, code: str, message: str) -> Response:
    """``{"error": {"code", "message"}}`` with ``status``."""
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


def _answer(error: errors.GroveError) -> Response:
    for kind, status, code in _STATUS:
        if isinstance(error, kind):
            # The upload pipeline's reasons (virusFound, blockedType …) are the
            # codes WebDAV's error bodies carry too.
            code = getattr(error, "code", code)
            response = json_error(status, code, str(error))
            if isinstance(error, errors.Throttled):
                response.headers["Retry-After"] = str(error.retry_after)
            if status == 401:
                response.headers["WWW-Authenticate"] = 'Basic realm="Grove"'
            return response
    return json_error(500, "generalException", "internal error")


def _not_supported(error: NotSupported) -> Response:
    return json_error(400, "notSupported", str(error))


def register(web: Flask) -> None:
    web.register_error_handler(errors.GroveError, _answer)
    web.register_error_handler(NotSupported, _not_supported)
