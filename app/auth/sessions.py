"""Sign-in sessions: a cookie ``<id>.<secret>`` whose secret is stored hashed.

Requests that change state with the cookie must carry the session's CSRF
token (derived from the secret, handed out at sign-in) in ``X-CSRF-Token``:
another site can make a browser send the cookie, not read the token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

from app import audit, db
from app.auth.principal import FULL, Principal
from app.config import Settings
from app.errors import NotFound
from app.models import Session, User

COOKIE = "grove_session"
CSRF_HEADER = "X-CSRF-Token"
_VALUE = re.compile(r"([0-9a-f]{16})\.([0-9a-f]{48})\Z")
# Last use is written at most this often, not on every request.
LAST_SEEN_PRECISION = 60.0


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_token(cookie: str) -> str:
    """The CSRF token that goes with a session cookie."""
    secret = cookie.partition(".")[2]
    return hmac.new(secret.encode(), b"grove csrf", hashlib.sha256).hexdigest()


def create(
    principal: Principal, *, address: str = "", user_agent: str = ""
) -> tuple[Session, str]:
    """A new session for ``principal``: its row and the cookie value."""
    user = User.get_by_id(principal.user_id)
    identifier, secret = secrets.token_hex(8), secrets.token_hex(24)
    row = Session(
        id=identifier,
        user=user.id,
        secret_hash=_digest(secret),
        scope=principal.scope,
        address=address[:64],
        user_agent=user_agent[:255],
    )
    with db.write():
        row.save(force_insert=True)
    return row, f"{identifier}.{secret}"


def _expired(row: Session, settings: Settings, now: float) -> bool:
    return (
        now - row.last_seen > settings.session_idle_seconds
        or now - row.created > settings.session_max_seconds
    )


def authenticate(cookie: str, settings: Settings) -> tuple[Principal, str] | None:
    """The principal and session id of a live session cookie, else None."""
    match = _VALUE.match(cookie)
    if match is None:
        return None
    identifier, secret = match.groups()
    row = (
        Session.select(Session, User)
        .join(User)
        .where(Session.id == identifier)
        .get_or_none()
    )
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
        return None
    user: User = row.user
    now = time.time()
    if _expired(row, settings, now):
        with db.write():
            Session.delete().where(Session.id == identifier).execute()
        return None
    if now - row.last_seen > LAST_SEEN_PRECISION:
        with db.write():
            Session.update(last_seen=now).where(Session.id == identifier).execute()
    scope = row.scope or FULL
    principal = Principal(user.id, user.name, user.is_admin, scope, method="session")
    return principal, identifier


def listing(user_id: str, settings: Settings) -> list[Session]:
    now = time.time()
    rows = Session.select().where(Session.user == user_id).order_by(Session.created)
    return [row for row in rows if not _expired(row, settings, now)]


def end(user_id: str, identifier: str, *, actor: str = "", address: str = "") -> None:
    """End one of the user's sessions."""
    with db.write():
        ended = (
            Session.delete()
            .where((Session.id == identifier) & (Session.user == user_id))
            .execute()
        )
    if not ended:
        raise NotFound(f"no session {identifier!r}")
    audit.record("session.end", actor=actor, address=address, detail=identifier)
