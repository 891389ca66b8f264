"""TOTP second factor (RFC 6238 via pyotp) with one-time recovery codes.

The seed is stored sealed under the master key; recovery codes only as hashes.
A code is accepted within one step either side of now, and once only: the
step it matched is remembered and older or equal steps are refused after.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import time

import pyotp
import segno

from app import audit, db, rows
from app.errors import BadRequest, Conflict, Forbidden
from app.keys import Keyring
from app.models import RecoveryCode, TotpSecret, User

ISSUER = "Grove"
RECOVERY_CODES = 10


def _hash(code: str) -> str:
    normal = code.strip().replace("-", "").lower()
    return hashlib.sha256(b"grove recovery\0" + normal.encode()).hexdigest()


def enabled(user_id: str) -> bool:
    return rows.exists(TotpSecret, user=user_id, enabled=True)


def begin(user: User, keyring: Keyring) -> str:
    """A new pending seed for ``user``; its otpauth URI (the seed is in it)."""
    if enabled(user.id):
        raise Conflict("TOTP is on already: switch it off first")
    seed = pyotp.random_base32()
    with db.write():
        TotpSecret.replace(
            user=user.id, seed=keyring.seal(seed.encode()), enabled=False, last_step=0
        ).execute()
    return pyotp.TOTP(seed).provisioning_uri(name=user.name, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The URI as a QR code in SVG, for authenticator apps to scan."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=4, border=2)
    return out.getvalue().decode()


def _accept(row: TotpSecret, code: str, keyring: Keyring) -> bool:
    """True when ``code`` matches a step not used before; that step is spent."""
    code = code.strip()
    if not code.isdigit():
        return False
    totp = pyotp.TOTP(keyring.open(row.seed).decode())
    now = time.time()
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if step <= row.last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            with db.write():
                # Compare-and-set: of two requests with one code, one wins.
                spent = (
                    TotpSecret.update(last_step=step)
                    .where(
                        (TotpSecret.user == row.user_id) & (TotpSecret.last_step < step)
                    )
                    .execute()
                )
            return int(spent) == 1
    return False


def confirm(user: User, code: str, keyring: Keyring) -> list[str]:
    """Switch TOTP on with a first code; the ten recovery codes (shown once)."""
    row = TotpSecret.get_or_none(TotpSecret.user == user.id)
    if row is None or row.enabled:
        raise Conflict("no TOTP enrolment is pending: POST /auth/totp first")
    if not _accept(row, code, keyring):
        raise Forbidden("the code does not match")
    codes = [
        f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)
    ]
    with db.write():
        TotpSecret.update(enabled=True).where(TotpSecret.user == user.id).execute()
        RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()
        for code_ in codes:
            RecoveryCode.create(user=user.id, code_hash=_hash(code_))
    audit.record("totp.enable", actor=user.name, target=user.name)
    return codes


def verify(user: User, code: str, keyring: Keyring) -> bool:
    """True for a current, unused TOTP code of a user with TOTP on."""
    row = TotpSecret.get_or_none((TotpSecret.user == user.id) & TotpSecret.enabled)
    return row is not None and _accept(row, code, keyring)


def use_recovery_code(user: User, code: str) -> bool:
    """True once for each recovery code; it is spent then."""
    with db.write():
        spent = (
            RecoveryCode.delete()
            .where(
                (RecoveryCode.user == user.id) & (RecoveryCode.code_hash == _hash(code))
            )
            .execute()
        )
    return int(spent) == 1


def disable(user: User, *, actor: str, detail: str = "") -> None:
    """Switch TOTP off and forget seed and recovery codes."""
    if not TotpSecret.select().where(TotpSecret.user == user.id).exists():
        raise BadRequest(f"TOTP is not on for {user.name!r}")
    with db.write():
        TotpSecret.delete().where(TotpSecret.user == user.id).execute()
        RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()
    audit.record("totp.disable", actor=actor, target=user.name, detail=detail)
