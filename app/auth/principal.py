"""The authenticated caller as the rest of the core sees it."""

from __future__ import annotations

import dataclasses

FULL = "full"
READ_ONLY = "read-only"
SCOPES = (FULL, READ_ONLY)
# A password sign-in of a user who must enrol in TOTP first: enrolment only.
ENROLMENT = "enrolment"


@dataclasses.dataclass(frozen=True)
class Principal:
    user_id: str
    name: str
    is_admin: bool = False
    # What the credential may do: `full`, or `read-only` (an app token scope).
    scope: str = FULL
    # How the caller signed in: password, token or session.
    method: str = "password"

    @property
    def read_only(self) -> bool:
        return self.scope == READ_ONLY

    @property
    def enrolment_only(self) -> bool:
        return self.scope == ENROLMENT
