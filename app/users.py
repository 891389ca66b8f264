"""User accounts: creation with a personal space, passwords, deletion."""

from __future__ import annotations

import logging
import os
import time
import uuid
from pathlib import Path

import peewee

from app import audit, db, rows, spaces
from app.auth.passwords import hash_password
from app.errors import BadRequest, Conflict, NotFound
from app.models import Node, Session, Space, User
from app.storage.names import xml_safe

logger = logging.getLogger(__name__)

MIN_PASSWORD = 8


def _check_name(name: str) -> None:
    if (
        not name
        or len(name) > 64
        or not xml_safe(name)
        or "/" in name
        or name in (".", "..")
    ):
        raise BadRequest(f"invalid user name {name!r}")
    if name.strip() != name or ":" in name:
        raise BadRequest(f"user name has spaces at its ends or a colon: {name!r}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"password shorter than {MIN_PASSWORD} characters")


def get(name_or_id: str) -> User:
    # Two compiled lookups (app/rows.py) cost less than building one OR query.
    user = rows.first(User, name=name_or_id) or rows.first(User, id=name_or_id)
    if user is None:
        raise NotFound(f"no user {name_or_id!r}")
    return user


def add(
    storage_dir: Path, name: str, password: str, *, admin: bool = False, actor: str = ""
) -> User:
    _check_name(name)
    _check_password(password)
    # Names differing only in case would be one person to a human reader (and
    # one folder on a case-insensitive client such as Windows or macOS).
    if User.get_or_none(peewee.fn.LOWER(User.name) == name.lower()):
        raise Conflict(f"user {name!r} exists (user names ignore case)")
    user = User(
        id=str(uuid.uuid4()),
        name=name,
        display_name=name,
        password_hash=hash_password(password),
        is_admin=admin,
    )
    with db.write():
        user.save(force_insert=True)
    spaces.create_personal(storage_dir, user)
    audit.record(
        "user.create", actor=actor, target=name, detail="admin" if admin else ""
    )
    return user


def set_password(name: str, password: str, *, actor: str = "") -> None:
    _check_password(password)
    user = get(name)
    with db.write():
        User.update(
            password_hash=hash_password(password),
            credential_generation=User.credential_generation + 1,
        ).where(User.id == user.id).execute()
        # Sessions were opened with the old password: they end with it.
        Session.delete().where(Session.user == user.id).execute()
    audit.record("user.password", actor=actor, target=name)


def delete(
    storage_dir: Path, state_dir: Path, name: str, *, actor: str = ""
) -> Path | None:
    """Remove an account; its files move to .grove/trash/users/ (returned)."""
    user = get(name)
    kept: Path | None = None
    for space in Space.select().where(Space.owner == user.id):
        source = spaces.root_path(storage_dir, space)
        if source.exists():
            kept = state_dir / "trash" / "users" / f"{user.name}-{int(time.time())}"
            kept.parent.mkdir(parents=True, exist_ok=True)
            os.rename(source, kept)
        with db.write():
            Node.delete().where(Node.space == space.id).execute()
            space.delete_instance()
    with db.write():
        user.delete_instance()
    audit.record("user.delete", actor=actor, target=name)
    return kept


def listing() -> list[User]:
    return list(User.select().order_by(User.name))
