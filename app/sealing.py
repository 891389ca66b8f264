"""Which database values are sealed, the start-up key check, and re-sealing.

A ``key_check`` value in the meta table is sealed with the current key: at
start it must open, so a missing or wrong master key is reported at once
instead of when the first TOTP code is checked.
"""

from __future__ import annotations

import logging

import peewee

from app import db
from app.keys import CHECK_PLAINTEXT, KeyError_, Keyring
from app.models import Meta, TotpSecret

logger = logging.getLogger(__name__)

# (model, field) of every sealed column: add each new one here.
SEALED: tuple[tuple[type[peewee.Model], str], ...] = ((TotpSecret, "seed"),)


def check(keyring: Keyring) -> None:
    """Make sure the keyring opens this database's secrets (KeyError_ if not)."""
    row = Meta.get_or_none(Meta.key == "key_check")
    if row is None:
        with db.write():
            Meta.insert(
                key="key_check", value=keyring.seal(CHECK_PLAINTEXT)
            ).on_conflict_ignore().execute()
        return
    identifier = Keyring.key_of(row.value)
    try:
        opened = keyring.open(row.value)
    except KeyError_:
        raise KeyError_(
            f"the secrets in this database are sealed with master key "
            f"{identifier!r}, which this Grove does not have or which is wrong: "
            f"restore {str(keyring.folder / (identifier + '.key'))!r} or set "
            "master_key / master_key_file to that key"
        ) from None
    if opened != CHECK_PLAINTEXT:
        raise KeyError_(f"the key check sealed with {identifier!r} is damaged")


def reseal_all(keyring: Keyring) -> int:
    """Seal every sealed value again under the current key; how many changed."""
    changed = 0
    with db.write():
        for model, field in SEALED:
            column = getattr(model, field)
            primary = model._meta.primary_key
            assert isinstance(primary, peewee.Field), model
            for row in model.select(primary, column):
                value = getattr(row, field)
                if not value or Keyring.key_of(value) == keyring.current:
                    continue
                resealed = keyring.seal(keyring.open(value))
                model.update({column: resealed}).where(
                    primary == getattr(row, primary.name)
                ).execute()
                changed += 1
        Meta.replace(key="key_check", value=keyring.seal(CHECK_PLAINTEXT)).execute()
    logger.info("re-sealed %d values under key %s", changed, keyring.current)
    return changed


def keys_in_use() -> set[str]:
    """Ids of the keys that sealed any stored value."""
    used: set[str] = set()
    for model, field in SEALED:
        for row in model.select(getattr(model, field)):
            value = getattr(row, field)
            if value:
                used.add(Keyring.key_of(value))
    check = Meta.get_or_none(Meta.key == "key_check")
    if check is not None:
        used.add(Keyring.key_of(check.value))
    return used
