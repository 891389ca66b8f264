"""``/auth-app/tokens``: app tokens over the API, as OpenCloud serves them."""

from __future__ import annotations

import datetime

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from app import users
from app.auth import tokens
from app.auth.principal import FULL, READ_ONLY
from app.errors import BadRequest
from app.models import AppToken
from graph.caller import principal


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _listed(row: AppToken) -> dict[str, str | None]:
    return {
        "token": row.id,
        "label": row.label,
        "scope": row.scope,
        "created_date": _iso(row.created),
        "expiration_date": _iso(row.expires),
        "last_used_date": _iso(row.last_used),
    }


def _address() -> str:
    return str(request.environ.get("REMOTE_ADDR", ""))


def create_blueprint() -> Blueprint:
    blueprint = Blueprint("auth_app", __name__)

    @blueprint.post("/auth-app/tokens")
    def create() -> ResponseReturnValue:
        caller = principal(write=True)
        expiry = request.args.get("expiry")
        scope = request.args.get("scope", FULL)
        if scope not in (FULL, READ_ONLY):
            raise BadRequest(f"scope must be full or read-only: {scope!r}")
        row, token = tokens.create(
            users.get(caller.user_id),
            label=request.args.get("label", ""),
            expiry_seconds=tokens.parse_expiry(expiry) if expiry else None,
            scope=scope,
            actor=caller.name,
            address=_address(),
        )
        return jsonify(
            token=token,
            label=row.label,
            scope=row.scope,
            created_date=_iso(row.created),
            expiration_date=_iso(row.expires),
        )

    @blueprint.get("/auth-app/tokens")
    def listing() -> ResponseReturnValue:
        caller = principal()
        return jsonify(
            [_listed(row) for row in tokens.listing(users.get(caller.user_id))]
        )

    @blueprint.delete("/auth-app/tokens")
    def revoke() -> ResponseReturnValue:
        caller = principal(write=True)
        token = request.args.get("token", "")
        if not token:
            raise BadRequest("name the token: ?token=<identifier or token>")
        tokens.revoke(
            users.get(caller.user_id), token, actor=caller.name, address=_address()
        )
        return "", 200

    return blueprint
