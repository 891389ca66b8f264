"""Public links: a grant on one item that anyone holding its token may use,
with an optional password (hashed) and expiration.

Link types are libre-graph's (view, upload, edit, createOnly, blocksDownload,
internal); what each permits is app.roles.LINK_PERMS, decided in app.acl.
"""

from __future__ import annotations

import secrets
import uuid

from app import audit, db, roles, shares, spaces
from app.auth.basic import CredentialCache, parse_basic
from app.auth.passwords import hash_password, verify_password
from app.auth.principal import Principal
from app.errors import BadRequest, Forbidden, NotFound, Unauthorized
from app.models import Grant, Space
from app.perms import Perm
from app.storage.tree import Item

# Verifying an argon2 hash costs ~0.1 s, and a client sends the password with
# every request: a verified (token, password) is remembered briefly.
_verified = CredentialCache(60.0)
MIN_PASSWORD = 1


def _check_type(link_type: str, item: Item) -> Perm:
    if link_type not in roles.LINK_PERMS:
        raise BadRequest(f"unknown link type {link_type!r}")
    if link_type in roles.FOLDER_LINKS and not item.is_dir:
        raise BadRequest(f"a {link_type!r} link needs a folder")
    return roles.LINK_PERMS[link_type]


def _check_rights(link_type: str, item: Item, perms: Perm) -> None:
    wanted = _check_type(link_type, item)
    if Perm.SHARE not in perms:
        raise Forbidden("not permitted to share this item")
    if wanted & ~perms:
        raise Forbidden(f"a {link_type!r} link is above your own rights here")


def _hash(password: str | None) -> str | None:
    if password is None or password == "":
        return None
    if len(password) < MIN_PASSWORD:
        raise BadRequest("the link password is too short")
    return hash_password(password)


def create(
    actor: Principal,
    item: Item,
    perms: Perm,
    *,
    link_type: str = "view",
    password: str | None = None,
    expires: float | None = None,
    display_name: str = "",
    address: str = "",
) -> Grant:
    """A new link on ``item`` (on which ``actor`` holds ``perms``)."""
    target = shares.item_target(item)
    with shares.refusal_audited("file_shared", actor, target, address):
        _check_rights(link_type, item, perms)
    shares.check_expiry(expires)
    grant = Grant(
        id=str(uuid.uuid4()),
        space=item.tree.space.id,
        node_id=item.id,
        grantee_type="link",
        grantee_id=None,
        role="",
        created_by=actor.user_id,
        expires=expires,
        link_token=secrets.token_urlsafe(12),
        link_type=link_type,
        password_hash=_hash(password),
        display_name=display_name,
    )
    with db.write():
        grant.save(force_insert=True)
    shares.record("file_shared", actor, grant, f"link={link_type}", address)
    return grant


def update(
    actor: Principal,
    grant: Grant,
    item: Item,
    perms: Perm,
    *,
    link_type: str | None = None,
    expires: float | None | object = shares.UNSET,
    display_name: str | None = None,
    address: str = "",
) -> Grant:
    """Change a link's type, expiration or display name."""
    changes: list[tuple[str, str]] = []
    retype = link_type is not None and link_type != grant.link_type
    target = shares.item_target(item)
    with shares.refusal_audited("share_permission_updated", actor, target, address):
        if not shares.may_manage(actor, grant, perms):
            raise Forbidden("not permitted to change this link")
        if retype:
            _check_rights(str(link_type), item, perms)
    if retype:
        grant.link_type = link_type
        changes.append(("share_permission_updated", f"link={link_type}"))
    if display_name is not None and display_name != grant.display_name:
        grant.display_name = display_name
        changes.append(("share_name_updated", ""))
    if expires is not shares.UNSET:
        assert expires is None or isinstance(expires, float | int)
        shares.check_expiry(expires)
        grant.expires = expires
        changes.append(("share_expiration_updated", f"expires={expires}"))
    with db.write():
        grant.save()
    for action, detail in changes:
        shares.record(action, actor, grant, detail, address)
    return grant


def set_password(
    actor: Principal,
    grant: Grant,
    perms: Perm,
    password: str | None,
    address: str = "",
) -> Grant:
    """Set, change or (with None or "") remove a link's password."""
    if grant.grantee_type != "link":
        raise BadRequest("only links have a password")
    target = shares.grant_target(grant)
    with shares.refusal_audited("share_password_updated", actor, target, address):
        if not shares.may_manage(actor, grant, perms):
            raise Forbidden("not permitted to change this link")
    grant.password_hash = _hash(password)
    with db.write():
        grant.save()
    shares.record("share_password_updated", actor, grant, "", address)
    return grant


def by_token(token: str) -> Grant:
    grant = Grant.get_or_none(
        (Grant.link_token == token) & (Grant.grantee_type == "link")
    )
    if grant is None:
        raise NotFound("no such link")
    return grant


def authenticate(token: str, authorization: str) -> Grant:
    """The link behind ``token`` for a request's ``Authorization`` header.

    A link with a password takes it as HTTP Basic (the user name is ignored);
    NotFound for an unknown token, Unauthorized for a missing or wrong password.
    """
    grant = by_token(token)
    stored = grant.password_hash
    if not stored:
        return grant
    credentials = parse_basic(authorization) if authorization else None
    if credentials is None:
        raise Unauthorized("this link has a password")
    password = credentials[1]
    # The stored hash is part of the key: a changed password misses the cache.
    key = f"{token}\0{stored}"
    if _verified.get(key, password) is not None:
        return grant
    # Audited once per verified password, like a sign-in (app.auth.signin).
    if not verify_password(stored, password):
        _accessed(grant, "failed")
        raise Unauthorized("wrong link password")
    _verified.put(key, password, str(grant.id), 0)
    _accessed(grant, "ok")
    return grant


def _accessed(grant: Grant, outcome: str) -> None:
    space = Space.get_by_id(grant.space_id)
    audit.record(
        "public_link_accessed",
        actor=principal(grant).name,
        target=spaces.resource_id(space, str(grant.node_id)),
        outcome=outcome,
        detail=f"grant={grant.id} password",
    )


def principal(grant: Grant) -> Principal:
    """Who a request through a link acts as: nobody's account, the link."""
    return Principal(user_id="", name=f"link:{grant.id}", method="link")
