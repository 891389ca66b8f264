"""The Flask half of the WSGI app: health endpoints now, the REST API later."""

from __future__ import annotations

from flask import Flask, jsonify

from app.instance import Grove


def create_web_app(grove: Grove) -> Flask:
    web = Flask("grove")

    @web.get("/healthz")
    def healthz() -> object:
        return jsonify(status="ok")

    @web.get("/readyz")
    def readyz() -> object:
        problems = grove.ready()
        if problems:
            return jsonify(status="unavailable", problems=problems), 503
        return jsonify(status="ok")

    return web
