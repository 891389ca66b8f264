"""HTTP Basic credentials, verified once and then remembered briefly.

WebDAV clients send the password with every request and argon2 costs ~0.1 s,
so a verified credential is cached under a keyed hash; the user's credential
generation is read from the database on every request, so a password change
takes effect at once on every worker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time

from app import rows
from app.auth.passwords import hash_password, verify_password
from app.auth.principal import Principal
from app.models import User

logger = logging.getLogger(__name__)


class CredentialCache:
    def __init__(self, ttl_seconds: float) -> None:
        self._key = secrets.token_bytes(32)
        self._ttl = ttl_seconds
        self._entries: dict[bytes, tuple[str, int, float]] = {}
        self._guard = threading.Lock()

    def _digest(self, name: str, password: str) -> bytes:
        message = name.encode() + b"\0" + password.encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def get(self, name: str, password: str) -> tuple[str, int] | None:
        key = self._digest(name, password)
        with self._guard:
            entry = self._entries.get(key)
        if entry is None or entry[2] < time.monotonic():
            return None
        return entry[0], entry[1]

    def put(self, name: str, password: str, user_id: str, generation: int) -> None:
        if self._ttl <= 0:
            return
        key = self._digest(name, password)
        with self._guard:
            if len(self._entries) > 10000:
                self._entries.clear()
            self._entries[key] = (user_id, generation, time.monotonic() + self._ttl)


def parse_basic(header: str) -> tuple[str, str] | None:
    """Split an ``Authorization: Basic`` value into (user, password)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    name, sep, password = decoded.partition(":")
    return (name, password) if sep else None


_DUMMY_HASH = hash_password("not a real password")


def authenticate_password(
    cache: CredentialCache, name: str, password: str
) -> tuple[Principal | None, bool]:
    """The principal for a name and password (or None), and whether the password
    was verified now rather than found in the cache (a sign-in worth recording)."""
    user = rows.first(User, name=name)
    if user is None or not user.account_enabled:
        # Spend the same time as for a wrong password: timing must not tell
        # which names exist.
        verify_password(_DUMMY_HASH, password)
        return None, False
    cached = cache.get(name, password)
    if cached and cached == (user.id, user.credential_generation):
        return Principal(user.id, user.name, user.is_admin), False
    if not verify_password(user.password_hash, password):
        return None, False
    cache.put(name, password, user.id, user.credential_generation)
    return Principal(user.id, user.name, user.is_admin), True
