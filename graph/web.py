"""The Flask half of the WSGI app: health endpoints now, the REST API later."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider
from flask.typing import ResponseReturnValue

from app.instance import Grove
from graph import api, auth_app, errors, signin, totp

logger = logging.getLogger(__name__)


class _JSON(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            # json.loads recurses once per nesting level; a ValueError is a
            # malformed body to Flask's get_json (400).
            raise ValueError("the JSON body is nested too deeply") from None


def create_web_app(grove: Grove) -> Flask:
    web = Flask("grove")
    web.json = _JSON(web)
    errors.register(web)
    web.register_blueprint(auth_app.create_blueprint())
    web.register_blueprint(totp.create_blueprint(grove))
    web.register_blueprint(signin.create_blueprint(grove))
    api.mount(web, grove)

    @web.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify(status="ok")

    @web.get("/readyz")
    def readyz() -> ResponseReturnValue:
        problems = grove.ready()
        if problems:
            # The details name paths: they go to the log, not to the anonymous caller.
            logger.warning("not ready: %s", problems)
            return jsonify(status="unavailable", problems=sorted(problems)), 503
        return jsonify(status="ok")

    return web
