"""``/auth/totp``: TOTP enrolment, confirmation and switching off."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from app import audit, users
from app.auth import totp
from app.auth.passwords import verify_password
from app.errors import BadRequest, Forbidden
from app.instance import Grove
from graph.caller import principal


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object")
    return body


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise BadRequest(f"{key} must be a string")
    return value


def _failed(grove: Grove, name: str) -> None:
    """A wrong code counts as a failed sign-in (audited, throttled)."""
    address = str(request.environ.get("REMOTE_ADDR", ""))
    audit.record("auth.totp", actor=name, address=address, outcome="failed")
    grove.auth.throttle.failed(name, address)


def create_blueprint(grove: Grove) -> Blueprint:
    blueprint = Blueprint("totp", __name__)

    @blueprint.post("/auth/totp")
    def begin() -> ResponseReturnValue:
        caller = principal(write=True, enrolment=True)
        uri = totp.begin(users.get(caller.user_id), grove.keyring)
        return jsonify(otpauth_uri=uri, qr_svg=totp.qr_svg(uri))

    @blueprint.post("/auth/totp/confirm")
    def confirm() -> ResponseReturnValue:
        caller = principal(write=True, enrolment=True)
        code = _text(_body(), "code")
        try:
            codes = totp.confirm(users.get(caller.user_id), code, grove.keyring)
        except Forbidden:
            _failed(grove, caller.name)
            raise
        return jsonify(recovery_codes=codes)

    @blueprint.delete("/auth/totp")
    def disable() -> ResponseReturnValue:
        caller = principal(write=True)
        user = users.get(caller.user_id)
        body = _body()
        code = _text(body, "code")
        if code:
            proved = totp.verify(user, code, grove.keyring)
        else:
            password = _text(body, "password")
            recovery = _text(body, "recovery_code")
            proved = (
                bool(password and recovery)
                and verify_password(user.password_hash, password)
                and totp.use_recovery_code(user, recovery)
            )
        if not proved:
            _failed(grove, caller.name)
            raise Forbidden("needs a current code, or the password and a recovery code")
        totp.disable(user, actor=caller.name)
        return "", 204

    return blueprint
