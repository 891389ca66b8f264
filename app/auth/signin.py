"""Sign-in: credentials in, a principal out, through one path for every door.

Basic with a password or an app token and Bearer with an app token all pass
here; so does every throttling decision and every sign-in audit record.
"""

from __future__ import annotations

import dataclasses
import hmac
import logging

from app import audit, links
from app.auth import sessions, tokens, totp
from app.auth.basic import CredentialCache, authenticate_password, parse_basic
from app.auth.principal import ENROLMENT, Principal
from app.auth.throttle import Throttle
from app.config import Settings
from app.errors import Forbidden, Unauthorized
from app.keys import Keyring
from app.models import Grant, User

logger = logging.getLogger(__name__)

TOTP_ON = (
    "two-factor sign-in is on for this account: the password alone no longer "
    "opens WebDAV or the API; use an app token (made at /auth-app/tokens) or "
    "sign in at /signin with a TOTP code"
)


class Authenticator:
    def __init__(self, settings: Settings, keyring: Keyring) -> None:
        self.settings = settings
        self.keyring = keyring
        self.credentials = CredentialCache(settings.credential_cache_seconds)
        self.throttle = Throttle(settings)

    def authenticate(self, authorization: str, address: str) -> Principal:
        """The principal for an ``Authorization`` header: Basic with a password
        or an app token, or Bearer with an app token.

        Raises Unauthorized, or Throttled after too many failures.
        """
        self.throttle.check_address(address)
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return self.token(value.strip(), None, address)
        credentials = parse_basic(authorization)
        if credentials is None:
            raise Unauthorized("unsupported or malformed Authorization header")
        name, secret = credentials
        if tokens.looks_like_token(secret):
            return self.token(secret, name, address)
        self.throttle.check_account(name, address)
        principal = self.password(name, secret, address)
        if principal is None:
            raise Unauthorized("invalid credentials")
        return self.second_factor_gate(principal)

    def link(self, token: str, authorization: str, address: str) -> Grant:
        """The public link behind ``token`` for a request's ``Authorization``.

        A wrong link password counts as a failed sign-in from ``address``, so
        guessing a link's password is throttled like guessing an account's.
        Raises NotFound, Unauthorized, or Throttled.
        """
        if authorization:
            # Visitors of a link without a password send no credentials.
            self.throttle.check_address(address)
        try:
            return links.authenticate(token, authorization)
        except Unauthorized:
            if authorization:
                logger.warning("failed link password from %s", address)
                self.throttle.failed(None, address)
            raise

    def totp_required(self, principal: Principal) -> bool:
        required = self.settings.totp_required
        return required == "everyone" or (required == "admins" and principal.is_admin)

    def second_factor_gate(self, principal: Principal) -> Principal:
        """What a password alone may open: nothing once TOTP is on, only the
        enrolment while TOTP is required but not on yet, else everything."""
        if totp.enabled(principal.user_id):
            raise Unauthorized(TOTP_ON)
        if self.totp_required(principal):
            return dataclasses.replace(principal, scope=ENROLMENT)
        return principal

    def token(self, token: str, name: str | None, address: str) -> Principal:
        """The principal of a valid app token (never refused by account throttling)."""
        principal, fresh = tokens.authenticate(token, name)
        if principal is None:
            logger.warning("failed token sign-in for %r from %s", name or "", address)
            audit.record(
                "auth.token", actor=name or "", address=address, outcome="failed"
            )
            self.throttle.failed(name, address)
            raise Unauthorized("invalid credentials")
        if fresh:
            audit.record("auth.token", actor=principal.name, address=address)
            self.throttle.succeeded(principal.user_id, address)
        return principal

    def password(self, name: str, password: str, address: str) -> Principal | None:
        """The principal for a name and password; sign-ins and failures are recorded.

        A request whose credentials come from the cache is not a new sign-in:
        only a password verified now is logged and audited.
        """
        principal, verified = authenticate_password(self.credentials, name, password)
        if principal is None:
            logger.warning("failed sign-in for %r from %s", name, address)
            audit.record("auth.signin", actor=name, address=address, outcome="failed")
            self.throttle.failed(name, address)
        elif verified:
            logger.info("sign-in of %r from %s", name, address)
            audit.record("auth.signin", actor=name, address=address)
            self.throttle.succeeded(principal.user_id, address)
        return principal

    def interactive(
        self, name: str, password: str, code: str, address: str
    ) -> Principal:
        """Sign-in for a session: the password, and a TOTP or recovery code where
        TOTP is on. Raises Unauthorized or Throttled."""
        self.throttle.check_address(address)
        self.throttle.check_account(name, address)
        principal = self.password(name, password, address)
        if principal is None:
            raise Unauthorized("invalid credentials")
        if not totp.enabled(principal.user_id):
            if self.totp_required(principal):
                return dataclasses.replace(principal, scope=ENROLMENT)
            return principal
        if not code:
            raise Unauthorized("this account needs a TOTP code: send it as totp")
        user = User.get_by_id(principal.user_id)
        if totp.verify(user, code, self.keyring) or totp.use_recovery_code(user, code):
            audit.record("auth.totp", actor=name, address=address)
            return principal
        logger.warning("wrong TOTP code for %r from %s", name, address)
        audit.record("auth.totp", actor=name, address=address, outcome="failed")
        self.throttle.failed(name, address)
        raise Unauthorized("the TOTP code does not match")

    def session(
        self, cookie: str, *, changes_state: bool, csrf: str
    ) -> tuple[Principal, str] | None:
        """The principal and id of a live session cookie (None: no session).

        A state-changing request must carry the session's CSRF token, else
        Forbidden: a cross-site request can send the cookie, not the token.
        """
        found = sessions.authenticate(cookie, self.settings)
        if found is None:
            return None
        if changes_state and not hmac.compare_digest(
            csrf.encode(), sessions.csrf_token(cookie).encode()
        ):
            raise Forbidden(f"missing or wrong {sessions.CSRF_HEADER} header")
        return found
