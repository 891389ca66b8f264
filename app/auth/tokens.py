"""App tokens: credentials for WebDAV clients and scripts, which cannot answer a
TOTP prompt.

A token is ``grove_<id>_<secret>``; it is shown once and only the SHA-256 of its
secret is stored (the secret is 192 random bits, so a slow hash adds nothing).
The id names the token in listings and revocations.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time

from app import audit, db
from app.auth.principal import FULL, SCOPES, Principal
from app.errors import BadRequest, NotFound
from app.models import AppToken, User

logger = logging.getLogger(__name__)

PREFIX = "grove_"
_TOKEN = re.compile(r"grove_([0-9a-f]{16})_([0-9a-f]{48})\Z")
_DURATION = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# The last-used time is written at most this often: not one write per request.
LAST_USED_PRECISION = 60.0
MAX_LABEL = 255


def parse_expiry(text: str) -> int:
    """Seconds in a duration such as ``72h``, ``30m``, ``7d`` or ``1h30m``."""
    text = text.strip()
    if not text or _DURATION.sub("", text):
        raise BadRequest(f"expiry is not a duration like 72h or 30m: {text!r}")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _DURATION.findall(text))
    if seconds <= 0:
        raise BadRequest(f"expiry must be longer than 0: {text!r}")
    return seconds


def looks_like_token(text: str) -> bool:
    return _TOKEN.match(text) is not None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _raise_generation(user_id: str) -> None:
    User.update(credential_generation=User.credential_generation + 1).where(
        User.id == user_id
    ).execute()


def create(
    user: User,
    *,
    label: str = "",
    expiry_seconds: int | None = None,
    scope: str = FULL,
    actor: str = "",
    address: str = "",
) -> tuple[AppToken, str]:
    """A new token for ``user``: its row and the token text (shown once)."""
    if scope not in SCOPES:
        raise BadRequest(f"scope must be one of {', '.join(SCOPES)}: {scope!r}")
    if len(label) > MAX_LABEL:
        raise BadRequest(f"label longer than {MAX_LABEL} characters")
    identifier, secret = secrets.token_hex(8), secrets.token_hex(24)
    created = time.time()
    row = AppToken(
        id=identifier,
        user=user.id,
        secret_hash=_digest(secret),
        label=label,
        scope=scope,
        created=created,
        expires=created + expiry_seconds if expiry_seconds else None,
    )
    with db.write():
        row.save(force_insert=True)
    audit.record(
        "token.create",
        actor=actor or user.name,
        address=address,
        target=user.name,
        detail=f"id={identifier} scope={scope}",
    )
    return row, f"{PREFIX}{identifier}_{secret}"


def listing(user: User) -> list[AppToken]:
    return list(
        AppToken.select().where(AppToken.user == user.id).order_by(AppToken.created)
    )


def revoke(user: User, token: str, *, actor: str = "", address: str = "") -> None:
    """End the token named by its identifier or by the token text itself."""
    match = _TOKEN.match(token)
    identifier = match.group(1) if match else token
    with db.write():
        row = AppToken.get_or_none(
            (AppToken.id == identifier) & (AppToken.user == user.id)
        )
        if row is None:
            raise NotFound(f"no token {identifier!r} of user {user.name!r}")
        row.delete_instance()
        # Anything that remembered a verified credential of this user forgets it.
        _raise_generation(user.id)
    audit.record(
        "token.revoke",
        actor=actor or user.name,
        address=address,
        target=user.name,
        detail=f"id={identifier}",
    )


def authenticate(token: str, name: str | None = None) -> tuple[Principal | None, bool]:
    """The principal a token stands for (None: unknown, wrong, expired), and
    whether this use was recorded as its last use (a sign-in worth auditing).

    With ``name`` (Basic auth) the token must belong to that user, named by
    name or id.
    """
    match = _TOKEN.match(token)
    if match is None:
        return None, False
    identifier, secret = match.groups()
    row = (
        AppToken.select(AppToken, User)
        .join(User)
        .where(AppToken.id == identifier)
        .get_or_none()
    )
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
        return None, False
    user: User = row.user
    if not user.account_enabled:
        return None, False
    if name is not None and name not in (user.name, user.id):
        return None, False
    now = time.time()
    if row.expires is not None and row.expires <= now:
        return None, False
    fresh = row.last_used is None or now - row.last_used > LAST_USED_PRECISION
    if fresh:
        with db.write():
            AppToken.update(last_used=now).where(AppToken.id == identifier).execute()
    principal = Principal(
        user.id, user.name, user.is_admin, scope=row.scope, method="token"
    )
    return principal, fresh
