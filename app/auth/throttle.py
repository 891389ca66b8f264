"""Throttling of failed sign-ins, per account and per address, in the database.

Past a threshold of failures within a window, further attempts are refused at
once (no waiting in a request thread) until a time that doubles with each
repeated refusal. Account throttling refuses only password sign-ins, and never
from an address that signed in to that account in the last 30 days: someone
else's guessing cannot lock the owner out. Address throttling refuses every
sign-in from that address.
"""

from __future__ import annotations

import logging
import math
import time

from app import audit, db, rows
from app.config import Settings
from app.errors import Throttled
from app.models import SignInFailures, TrustedAddress, User

logger = logging.getLogger(__name__)

TRUSTED_FOR = 30 * 86400.0
# A trusted address's time is refreshed at most this often (not on every request).
TRUST_REFRESH = 3600.0


def _account_key(user_id: str) -> str:
    return f"account:{user_id}"


def _address_key(address: str) -> str:
    return f"address:{address}"


class Throttle:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _refuse_if_blocked(self, key: str, who: str, address: str) -> None:
        row = rows.first(SignInFailures, key=key)
        now = time.time()
        if row is None or row.blocked_until <= now:
            return
        retry_after = max(1, math.ceil(row.blocked_until - now))
        audit.record(
            "auth.throttled",
            actor=who,
            address=address,
            outcome="refused",
            detail=key.partition(":")[0],
        )
        raise Throttled(
            f"too many failed sign-ins: try again in {retry_after} s", retry_after
        )

    def check_address(self, address: str) -> None:
        """Refuse (Throttled) every sign-in from an address that failed too often."""
        if address:
            self._refuse_if_blocked(_address_key(address), "", address)

    def check_account(self, name: str, address: str) -> None:
        """Refuse (Throttled) a password sign-in to an account that failed too
        often, unless ``address`` signed in to it successfully of late."""
        user = rows.first(User, name=name)
        if user is None:
            return
        key = _account_key(user.id)
        row = rows.first(SignInFailures, key=key)
        if row is None or row.blocked_until <= time.time():
            return
        if self._trusted(user.id, address):
            return
        self._refuse_if_blocked(key, name, address)

    def _trusted(self, user_id: str, address: str) -> bool:
        row = TrustedAddress.get_or_none(
            (TrustedAddress.user == user_id) & (TrustedAddress.address == address)
        )
        return row is not None and row.last_success > time.time() - TRUSTED_FOR

    def failed(self, name: str | None, address: str) -> None:
        """Count a failed sign-in against the address and the named account."""
        keys = [(_address_key(address), self.settings.throttle_address_failures)]
        user = User.get_or_none(User.name == name) if name else None
        if user is not None:
            # Only existing accounts are counted: guessed names must not fill the
            # table; the address count covers them.
            keys.append(
                (_account_key(user.id), self.settings.throttle_account_failures)
            )
        with db.write():
            for key, limit in keys:
                self._count(key, limit)

    def _count(self, key: str, limit: int) -> None:
        settings, now = self.settings, time.time()
        row = SignInFailures.get_or_none(SignInFailures.key == key)
        if row is None:
            row = SignInFailures(key=key, window_start=now)
            row.save(force_insert=True)
        if now - row.window_start > settings.throttle_window_seconds:
            row.failures, row.window_start = 0, now
            if now - row.blocked_until > settings.throttle_window_seconds:
                row.strikes = 0
        row.failures += 1
        if row.failures >= limit:
            seconds = min(
                settings.throttle_block_seconds * 2**row.strikes,
                settings.throttle_block_max_seconds,
            )
            row.blocked_until = now + seconds
            row.strikes += 1
            row.failures = 0
            logger.warning("sign-ins refused for %d s: %s", seconds, key)
        row.save()

    def succeeded(self, user_id: str, address: str) -> None:
        """Remember that ``address`` signed in to this account."""
        if not address:
            return
        now = time.time()
        row = TrustedAddress.get_or_none(
            (TrustedAddress.user == user_id) & (TrustedAddress.address == address)
        )
        if row is not None and now - row.last_success < TRUST_REFRESH:
            return
        with db.write():
            TrustedAddress.insert(
                user=user_id, address=address, last_success=now
            ).on_conflict(
                conflict_target=[TrustedAddress.user, TrustedAddress.address],
                update={TrustedAddress.last_success: now},
            ).execute()
