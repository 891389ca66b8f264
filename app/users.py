"""User accounts: creation with a personal space, profile changes, passwords,
and the end of an account (sessions, tokens, shares and the personal space).

The login name may change; the user's id, personal space folder and shares
stay. A deleted user's files wait in ``.grove/trash/users/`` for the trash
retention period (a durable job purges them), or are purged at once.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import peewee

from app import audit, db, jobs, rows, spaces
from app.auth.passwords import hash_password, verify_password
from app.errors import BadRequest, Conflict, NotFound
from app.models import (
    AppToken,
    DeadProperty,
    Favorite,
    Grant,
    GroupMember,
    Lock,
    Node,
    Session,
    ShareState,
    Space,
    Tag,
    User,
)
from app.search import hooks as search_hooks
from app.storage.names import xml_safe

if TYPE_CHECKING:
    from app.instance import Grove

logger = logging.getLogger(__name__)

PURGE_JOB = "users.purge_deleted"

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


def check_password(password: str) -> None:
    """BadRequest unless ``password`` is long enough."""
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"password shorter than {MIN_PASSWORD} characters")


def get(name_or_id: str) -> User:
    # Two compiled lookups (app/rows.py) cost less than building one OR query.
    user = rows.first(User, name=name_or_id) or rows.first(User, id=name_or_id)
    if user is None:
        raise NotFound(f"no user {name_or_id!r}")
    return user


def _check_free(name: str, *, keep: str = "") -> None:
    # Names differing only in case would be one person to a human reader (and
    # one folder on a case-insensitive client such as Windows or macOS).
    found = User.get_or_none(peewee.fn.LOWER(User.name) == name.lower())
    if found is not None and found.id != keep:
        raise Conflict(f"user {name!r} exists (user names ignore case)")


def add(
    storage_dir: Path,
    name: str,
    password: str,
    *,
    admin: bool = False,
    display_name: str = "",
    mail: str = "",
    account_enabled: bool = True,
    preferred_language: str = "",
    actor: str = "",
    address: str = "",
) -> User:
    _check_name(name)
    check_password(password)
    _check_free(name)
    language = _language(preferred_language)
    user = User(
        id=str(uuid.uuid4()),
        name=name,
        display_name=_display_name(display_name or name),
        password_hash=hash_password(password),
        is_admin=admin,
        mail=_mail(mail),
        account_enabled=account_enabled,
        preferred_language=language,
    )
    with db.write():
        user.save(force_insert=True)
    spaces.create_personal(storage_dir, user)
    audit.record(
        "user_created",
        actor=actor,
        address=address,
        target=name,
        detail="admin" if admin else "",
    )
    return user


def _display_name(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 255 or not xml_safe(value):
        raise BadRequest(f"not a usable display name: {value!r}")
    return value


def _language(value: str) -> str:
    if len(value) > 16 or not value.isascii() or not xml_safe(value):
        raise BadRequest(f"not a language code: {value!r}")
    return value


def _mail(value: str) -> str:
    value = value.strip()
    if value and (len(value) > 255 or "@" not in value or not xml_safe(value)):
        raise BadRequest(f"not a mail address: {value!r}")
    return value


def update(
    user: User,
    *,
    name: str | None = None,
    display_name: str | None = None,
    mail: str | None = None,
    account_enabled: bool | None = None,
    preferred_language: str | None = None,
    actor: str = "",
    address: str = "",
) -> User:
    """Change a user's profile; ``None`` leaves a field as it is.

    A new login name keeps the id, the personal space (its folder too) and
    the shares. Renaming or disabling raises the credential generation, so
    cached sign-ins under the old state end at once on every worker.
    """
    changes: dict[str, object] = {}
    if name is not None and name != user.name:
        _check_name(name)
        _check_free(name, keep=user.id)
        changes["name"] = name
    if display_name is not None:
        changes["display_name"] = _display_name(display_name)
    if mail is not None:
        changes["mail"] = _mail(mail)
    if preferred_language is not None:
        changes["preferred_language"] = _language(preferred_language)
    if account_enabled is not None:
        changes["account_enabled"] = account_enabled
    changes = {
        key: value for key, value in changes.items() if getattr(user, key) != value
    }
    if not changes:
        return user
    ends_sign_ins = "name" in changes or changes.get("account_enabled") is False
    with db.write():
        query = User.update(**changes)
        if ends_sign_ins:
            query = User.update(
                **changes, credential_generation=User.credential_generation + 1
            )
        query.where(User.id == user.id).execute()
        if "name" in changes:
            # The drive's name follows the login name; its folder stays.
            Space.update(name=changes["name"]).where(
                (Space.kind == "personal") & (Space.owner == user.id)
            ).execute()
        if changes.get("account_enabled") is False:
            Session.delete().where(Session.user == user.id).execute()
    audit.record(
        "user_feature_changed",
        actor=actor,
        address=address,
        target=user.name,
        detail=", ".join(sorted(changes)),
    )
    return User.get_by_id(user.id)


def set_password(
    name: str, password: str, *, actor: str = "", address: str = ""
) -> None:
    check_password(password)
    user = get(name)
    with db.write():
        User.update(
            password_hash=hash_password(password),
            credential_generation=User.credential_generation + 1,
        ).where(User.id == user.id).execute()
        # Sessions were opened with the old password: they end with it.
        Session.delete().where(Session.user == user.id).execute()
    audit.record(
        "user_feature_changed",
        actor=actor,
        address=address,
        target=name,
        detail="password",
    )


def change_password(
    user: User, current: str, new: str, *, actor: str = "", address: str = ""
) -> None:
    """The user's own change: the current password must be right."""
    if not verify_password(user.password_hash, current):
        raise BadRequest("the current password is wrong")
    if current == new:
        raise BadRequest("the new password is the current one")
    set_password(user.name, new, actor=actor, address=address)


def delete(
    storage_dir: Path,
    state_dir: Path,
    name: str,
    *,
    purge: bool = False,
    keep_days: int = 0,
    actor: str = "",
    address: str = "",
) -> Path | None:
    """Remove an account: its sessions and tokens end, the shares it received
    and gave are removed, and its personal space moves to
    .grove/trash/users/ (returned) for ``keep_days`` (0: until an admin
    removes it), or is removed at once with ``purge``.
    """
    user = get(name)
    kept: Path | None = None
    for space in Space.select().where(Space.owner == user.id):
        kept = _retire_space(storage_dir, state_dir, space, user.name, purge=purge)
    with db.write():
        Session.delete().where(Session.user == user.id).execute()
        AppToken.delete().where(AppToken.user == user.id).execute()
        _remove_grants(user.id)
        GroupMember.delete().where(GroupMember.user == user.id).execute()
        user.delete_instance()
    if kept is not None and keep_days > 0:
        _schedule_purge(state_dir, kept, keep_days)
    audit.record(
        "user_deleted",
        actor=actor,
        address=address,
        target=name,
        detail="purged" if purge else "",
    )
    return kept


def _remove_grants(user_id: str) -> None:
    """Shares and links the user received or gave; space memberships the user
    added for others stay (the space is not theirs to take along)."""
    given = (Grant.created_by == user_id) & (
        (Grant.node_id != Grant.space) | (Grant.grantee_type == "link")
    )
    received = (Grant.grantee_type == "user") & (Grant.grantee_id == user_id)
    doomed = Grant.select(Grant.id).where(given | received)
    ShareState.delete().where(ShareState.grant.in_(doomed)).execute()
    Grant.delete().where(Grant.id.in_(doomed)).execute()


def _retire_space(
    storage_dir: Path, state_dir: Path, space: Space, user_name: str, *, purge: bool
) -> Path | None:
    """Take a personal space out of use: its folder, item trash and versions
    move to the trash of deleted users (or are removed), its rows go."""
    own_state = [
        state_dir / "trash" / str(space.id),
        state_dir / "versions" / str(space.id),
    ]
    source = spaces.root_path(storage_dir, space)
    kept: Path | None = None
    if purge:
        for folder in (source, *own_state):
            shutil.rmtree(folder, ignore_errors=True)
    elif source.exists():
        kept = _free_trash_path(state_dir, user_name)
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.rename(source, kept)
        for folder, suffix in zip(own_state, (".trash", ".versions"), strict=True):
            if folder.exists():
                os.rename(folder, kept.with_name(kept.name + suffix))
    nodes = Node.select(Node.id).where(Node.space == space.id)
    with db.write():
        DeadProperty.delete().where(DeadProperty.node_id.in_(nodes)).execute()
        Favorite.delete().where(Favorite.node_id.in_(nodes)).execute()
        Tag.delete().where(Tag.node_id.in_(nodes)).execute()
        Lock.delete().where(Lock.root.startswith(f"/{space.id}/")).execute()
        Node.delete().where(Node.space == space.id).execute()
        space.delete_instance()
    search_hooks.space_removed(str(space.id))
    return kept


def _free_trash_path(state_dir: Path, user_name: str) -> Path:
    base = state_dir / "trash" / "users" / f"{user_name}-{int(time.time())}"
    candidate, counter = base, 1
    while candidate.exists():
        counter += 1
        candidate = base.with_name(f"{base.name}-{counter}")
    return candidate


def _schedule_purge(state_dir: Path, kept: Path, keep_days: int) -> None:
    relative = str(kept.relative_to(state_dir))
    try:
        jobs.enqueue_later(PURGE_JOB, keep_days * 86400.0, path=relative)
    except RuntimeError:
        # No queue in this process (a bare script): the files stay until an
        # admin removes them; saying so beats failing the deletion.
        logger.warning("no job queue: %r is kept until removed by hand", str(kept))


@jobs.task(PURGE_JOB)
def purge_deleted(grove: Grove, path: str) -> None:
    """Remove a deleted user's files once their retention period is over."""
    trash = grove.settings.state_dir / "trash" / "users"
    target = grove.settings.state_dir / path
    if target.parent != trash or not target.name:
        logger.warning("refused to purge %r: not a deleted user's folder", path)
        return
    for folder in (
        target,
        *(target.with_name(target.name + s) for s in (".trash", ".versions")),
    ):
        shutil.rmtree(folder, ignore_errors=True)
    logger.info("purged the files of a deleted user: %r", path)


def listing() -> list[User]:
    return list(User.select().order_by(User.name))
