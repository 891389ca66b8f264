"""Interactive sign-in: ``/signin`` (JSON or a minimal HTML form), ``/signout``
and the user's sessions at ``/auth/sessions``."""

from __future__ import annotations

import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from markupsafe import escape

from app.auth import sessions
from app.errors import BadRequest, Unauthorized
from app.instance import Grove
from graph.caller import principal

FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to Grove</title></head>
<body><h1>Sign in to Grove</h1>{message}
<form method="post" action="/signin">
<p><label>User name <input name="username" autocomplete="username" required></label>
<p><label>Password <input name="password" type="password"
  autocomplete="current-password" required></label>
<p><label>TOTP or recovery code (if on) <input name="totp"
  autocomplete="one-time-code" inputmode="numeric"></label>
<p><button type="submit">Sign in</button>
</form></body></html>
"""


def _iso(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _credentials() -> tuple[dict[str, Any], bool]:
    """The sign-in fields, and whether they came from the HTML form."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BadRequest("expected a JSON object")
        return body, False
    return request.form.to_dict(), True


def _field(body: dict[str, Any], key: str) -> str:
    value = body.get(key) or ""
    if not isinstance(value, str):
        raise BadRequest(f"{key} must be a string")
    return value


def _address() -> str:
    return str(request.environ.get("REMOTE_ADDR", ""))


def create_blueprint(grove: Grove) -> Blueprint:
    blueprint = Blueprint("signin", __name__)

    @blueprint.get("/signin")
    def form() -> ResponseReturnValue:
        return Response(FORM.format(message=""), mimetype="text/html")

    @blueprint.post("/signin")
    def signin() -> ResponseReturnValue:
        body, from_form = _credentials()
        try:
            caller = grove.auth.interactive(
                _field(body, "username"),
                _field(body, "password"),
                _field(body, "totp"),
                _address(),
            )
        except Unauthorized as error:
            if not from_form:
                raise
            message = f"<p role=alert>{escape(str(error))}</p>"
            return Response(FORM.format(message=message), 401, mimetype="text/html")
        row, cookie = sessions.create(
            caller,
            address=_address(),
            user_agent=request.headers.get("User-Agent", ""),
        )
        response = redirect("/", 303) if from_form else Response(status=204)
        response.set_cookie(
            sessions.COOKIE,
            cookie,
            max_age=grove.settings.session_max_seconds,
            httponly=True,
            samesite="Lax",
            secure=request.scheme == "https",
            path="/",
        )
        response.headers[sessions.CSRF_HEADER] = sessions.csrf_token(cookie)
        response.headers["Cache-Control"] = "no-store"
        return response

    @blueprint.post("/signout")
    def signout() -> ResponseReturnValue:
        caller = principal(enrolment=True)
        current = request.environ.get("grove.session")
        if current is None:
            raise BadRequest("not signed in with a session")
        sessions.end(caller.user_id, current, actor=caller.name, address=_address())
        response = Response(status=204)
        response.delete_cookie(sessions.COOKIE, path="/")
        return response

    @blueprint.get("/auth/sessions")
    def listing() -> ResponseReturnValue:
        caller = principal(enrolment=True)
        current = request.environ.get("grove.session")
        return jsonify(
            [
                {
                    "id": row.id,
                    "created_date": _iso(row.created),
                    "last_used_date": _iso(row.last_seen),
                    "address": row.address,
                    "user_agent": row.user_agent,
                    "current": row.id == current,
                }
                for row in sessions.listing(caller.user_id, grove.settings)
            ]
        )

    @blueprint.delete("/auth/sessions/<identifier>")
    def end(identifier: str) -> ResponseReturnValue:
        caller = principal(write=True, enrolment=True)
        sessions.end(caller.user_id, identifier, actor=caller.name, address=_address())
        return "", 204

    return blueprint
