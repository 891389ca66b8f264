"""Who is calling the API: the principal the front door authenticated."""

from __future__ import annotations

from flask import request

from app.auth.principal import Principal
from app.errors import Forbidden, Unauthorized


def principal(*, write: bool = False, enrolment: bool = False) -> Principal:
    """The signed-in caller; ``write``: the request changes state;
    ``enrolment``: a TOTP enrolment step, open to a user who must enrol first.

    A read-only credential is refused every API write here, as the permission
    function refuses it every file change.
    """
    found: Principal | None = request.environ.get("grove.principal")
    if found is None:
        raise Unauthorized("sign in required")
    if write and found.read_only:
        raise Forbidden("this credential is read-only")
    if found.enrolment_only and not enrolment:
        raise Forbidden("TOTP is required for this account: enrol at /auth/totp")
    return found
