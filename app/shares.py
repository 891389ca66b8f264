"""Shares: a role on one file or folder for a user or a group, and the share
jail where each recipient finds what others shared with them.

A share is a Grant on the item's node id (space membership is a grant on the
space root and belongs to app.spaces). Shares are accepted automatically: a
recipient's ShareState (mount name, hidden, synchronize) is made the first
time their jail is listed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections.abc import Iterable, Iterator

from app import audit, db, roles, spaces, users
from app.auth.principal import Principal
from app.errors import BadRequest, Conflict, Forbidden, NotFound
from app.models import Grant, Group, GroupMember, Node, ShareState, Space, User
from app.perms import Perm
from app.storage.names import check_new_name
from app.storage.tree import Item

# OpenCloud's share jail: a virtual space per user, always this id.
JAIL_ID = "a0ca6a90-a365-4782-871e-d44447bbc668"
JAIL_DRIVE_ID = f"{JAIL_ID}${JAIL_ID}"
# The folder name of the jail in the files layouts (/dav/files/<user>/Shares).
JAIL_FOLDER = "Shares"

# Roles a file or folder may be shared with (the space roles are membership).
SHARE_ROLES = (
    roles.VIEWER,
    roles.VIEWER_LIST_GRANTS,
    roles.SECURE_VIEWER,
    roles.EDITOR,
    roles.EDITOR_LIST_GRANTS,
    roles.EDITOR_LITE,
    roles.FILE_EDITOR,
    roles.FILE_EDITOR_LIST_GRANTS,
    roles.DENIED,
)
# share-type numbers of oc:share-types and the OCS API.
SHARE_TYPES = {"user": 0, "group": 1, "link": 3}

UNSET: object = object()  # update(): "leave the expiration as it is"


@dataclasses.dataclass
class Mount:
    """A share as one recipient sees it in their jail."""

    grant: Grant
    state: ShareState
    space: Space
    parts: list[str]  # the shared item's path in its space

    @property
    def name(self) -> str:
        return str(self.state.mount_name)


def _now() -> float:
    return time.time()


def allowed_roles(*, is_dir: bool) -> list[roles.Role]:
    """The roles an item of this kind may be shared with."""
    return [r for r in SHARE_ROLES if r.applies_to(is_root=False, is_dir=is_dir)]


def locate(node_id: str) -> tuple[Space, list[str]] | None:
    """The space and path of a node, from the tree rows (None: gone)."""
    parts: list[str] = []
    current: str | None = node_id
    for _ in range(4096):  # deeper than any real tree; stops a parent loop
        if current is None:
            return None
        row = Node.get_or_none(Node.id == current)
        if row is None or row.parent_id is None:
            # A space root's id is its space's id (it may have no row yet).
            space = Space.get_or_none(Space.id == current)
            return None if space is None else (space, parts[::-1])
        parts.append(str(row.name))
        current = row.parent_id
    return None


def _check_grantee(actor: Principal, grantee_type: str, grantee_id: str) -> str:
    """The grantee's id, checked to exist."""
    if grantee_type == "user":
        try:
            user = users.get(grantee_id)
        except NotFound:
            raise BadRequest(f"no user {grantee_id!r}") from None
        if user.id == actor.user_id:
            raise BadRequest("an item cannot be shared with oneself")
        return str(user.id)
    if grantee_type == "group":
        group = Group.get_or_none((Group.id == grantee_id) | (Group.name == grantee_id))
        if group is None:
            raise BadRequest(f"no group {grantee_id!r}")
        return str(group.id)
    raise BadRequest(f"unknown recipient type {grantee_type!r}")


def check_role(role_id: str, *, item: Item, perms: Perm) -> roles.Role:
    """The role, if it fits the item and stays within the sharer's rights."""
    role = roles.get(role_id)
    if role is None or role not in SHARE_ROLES:
        raise BadRequest(f"role {role_id!r} cannot be given on a file or folder")
    if not role.applies_to(is_root=False, is_dir=item.is_dir):
        kind = "folder" if item.is_dir else "file"
        raise BadRequest(f"role {role.name!r} does not apply to a {kind}")
    if role.perms & ~perms:
        raise Forbidden(f"role {role.name!r} is above your own rights here")
    if role is roles.DENIED:
        # A deny keeps a member out of one folder of a project space.
        if item.tree.space.kind != "project":
            raise BadRequest("access is denied only in project spaces")
        if Perm.MANAGE not in perms:
            raise Forbidden("only a Manager of the space may deny access")
    return role


def check_expiry(expires: float | None) -> None:
    if expires is not None and expires <= _now():
        raise BadRequest("the expiration date is in the past")


def _target(space: Space, node_id: str) -> str:
    return spaces.resource_id(space, node_id)


def record(
    action: str, actor: Principal, grant: Grant, detail: str = "", address: str = ""
) -> None:
    """One audit event for a share or link change, naming the item."""
    space = Space.get_by_id(grant.space_id)
    audit.record(
        action,
        actor=actor.name,
        address=address,
        target=_target(space, str(grant.node_id)),
        detail=f"grant={grant.id} {grant.grantee_type}:{grant.grantee_id or ''} "
        + detail,
    )


def item_target(item: Item) -> str:
    return _target(item.tree.space, item.id)


def grant_target(grant: Grant) -> str:
    return _target(Space.get_by_id(grant.space_id), str(grant.node_id))


@contextlib.contextmanager
def refusal_audited(
    action: str, actor: Principal, target: str, address: str
) -> Iterator[None]:
    """Record a share or link change refused for want of rights (outcome
    ``denied``): someone reaching beyond their rights is worth knowing."""
    try:
        yield
    except Forbidden as error:
        audit.record(
            action,
            actor=actor.name,
            address=address,
            target=target,
            outcome="denied",
            detail=str(error),
        )
        raise


def _record_as(user_id: str, action: str, grant: Grant) -> None:
    user = User.get_or_none(User.id == user_id)
    name = str(user.name) if user is not None else user_id
    record(action, Principal(user_id=user_id, name=name), grant, "automatic")


def share(
    actor: Principal,
    item: Item,
    perms: Perm,
    *,
    grantee_type: str,
    grantee_id: str,
    role: str,
    expires: float | None = None,
    address: str = "",
) -> Grant:
    """Share ``item`` (on which ``actor`` holds ``perms``) with a user or group."""
    (grant,) = invite(
        actor,
        item,
        perms,
        [(grantee_type, grantee_id)],
        role=role,
        expires=expires,
        address=address,
    )
    return grant


def invite(
    actor: Principal,
    item: Item,
    perms: Perm,
    recipients: list[tuple[str, str]],
    *,
    role: str,
    expires: float | None = None,
    address: str = "",
) -> list[Grant]:
    """Share ``item`` with each (type, id) recipient: all of them or, on any
    refusal, none."""
    if not item.parts:
        raise BadRequest("a space root is shared through its members, not a share")
    with refusal_audited("file_shared", actor, item_target(item), address):
        if Perm.SHARE not in perms:
            raise Forbidden("not permitted to share this item")
        chosen = check_role(role, item=item, perms=perms)
    check_expiry(expires)
    checked = [(kind, _check_grantee(actor, kind, who)) for kind, who in recipients]
    if len(set(checked)) < len(checked):
        raise BadRequest("a recipient is named twice")
    for kind, grantee in checked:
        exists = Grant.get_or_none(
            (Grant.node_id == item.id)
            & (Grant.grantee_type == kind)
            & (Grant.grantee_id == grantee)
        )
        if exists is not None:
            raise Conflict(f"{item.name!r} is already shared with this {kind}")
    made = [
        Grant(
            id=str(uuid.uuid4()),
            space=item.tree.space.id,
            node_id=item.id,
            grantee_type=kind,
            grantee_id=grantee,
            role=chosen.id,
            created_by=actor.user_id,
            expires=expires,
        )
        for kind, grantee in checked
    ]
    with db.write():
        for grant in made:
            grant.save(force_insert=True)
    for grant in made:
        record("file_shared", actor, grant, f"role={chosen.name}", address)
    return made


def may_manage(actor: Principal, grant: Grant, perms: Perm) -> bool:
    """Who may change or remove a grant: a manager of the item, or its creator
    while they may still share."""
    if Perm.MANAGE in perms:
        return True
    return Perm.SHARE in perms and grant.created_by == actor.user_id


def update(
    actor: Principal,
    grant: Grant,
    item: Item,
    perms: Perm,
    *,
    role: str | None = None,
    expires: float | None | object = UNSET,
    address: str = "",
) -> Grant:
    """Change a share's role or expiration (None: never expires)."""
    changes: list[tuple[str, str]] = []
    target = item_target(item)
    with refusal_audited("share_permission_updated", actor, target, address):
        if not may_manage(actor, grant, perms):
            raise Forbidden("not permitted to change this share")
        chosen = None
        if role is not None and grant.grantee_type != "link":
            chosen = check_role(role, item=item, perms=perms)
    if chosen is not None and chosen.id != grant.role:
        grant.role = chosen.id
        changes.append(("share_permission_updated", f"role={chosen.name}"))
    if expires is not UNSET:
        assert expires is None or isinstance(expires, float | int)
        check_expiry(expires)
        grant.expires = expires
        changes.append(("share_expiration_updated", f"expires={expires}"))
    with db.write():
        grant.save()
    for action, detail in changes:
        record(action, actor, grant, detail, address)
    return grant


def remove(actor: Principal, grant: Grant, perms: Perm, address: str = "") -> None:
    """Remove a share or a link."""
    with refusal_audited("file_unshared", actor, grant_target(grant), address):
        if not may_manage(actor, grant, perms):
            raise Forbidden("not permitted to remove this share")
    with db.write():
        grant.delete_instance()
    record("file_unshared", actor, grant, "", address)


def get(grant_id: str) -> Grant:
    """A share or link grant (never a space membership) by id."""
    grant = Grant.get_or_none(Grant.id == grant_id)
    if grant is None or grant.node_id == grant.space_id:
        raise NotFound(f"no share {grant_id!r}")
    return grant


def on_item(item: Item) -> list[Grant]:
    """The shares and links on one item, oldest first."""
    query = Grant.select().where(
        (Grant.node_id == item.id) & (Grant.node_id != Grant.space)
    )
    return list(query.order_by(Grant.created))


def share_types(node_ids: Iterable[str]) -> dict[str, list[int]]:
    """For each shared node among ``node_ids``: its share types (0, 1, 3), one query."""
    ids = list(node_ids)
    found: dict[str, set[int]] = {}
    for start in range(0, len(ids), 500):
        query = Grant.select(Grant.node_id, Grant.grantee_type, Grant.role).where(
            Grant.node_id.in_(ids[start : start + 500]) & (Grant.node_id != Grant.space)
        )
        for row in query:
            if row.role == roles.DENIED.id:
                continue
            kind = SHARE_TYPES.get(str(row.grantee_type))
            if kind is not None:
                found.setdefault(str(row.node_id), set()).add(kind)
    return {node: sorted(kinds) for node, kinds in found.items()}


def given_by(user_id: str) -> list[Grant]:
    """Shares and links the user made, or made on items in their personal space."""
    own = Space.select(Space.id).where(
        (Space.kind == "personal") & (Space.owner == user_id)
    )
    query = Grant.select().where(
        (Grant.node_id != Grant.space)
        & ((Grant.created_by == user_id) | Grant.space.in_(own))
    )
    return list(query.order_by(Grant.created))


# --- the recipient's side: the share jail -------------------------------------


def _received(user_id: str) -> list[Grant]:
    groups = GroupMember.select(GroupMember.group_id).where(GroupMember.user == user_id)
    own = Space.select(Space.id).where(
        (Space.kind == "personal") & (Space.owner == user_id)
    )
    now = _now()
    query = Grant.select().where(
        (Grant.node_id != Grant.space)
        & (
            ((Grant.grantee_type == "user") & (Grant.grantee_id == user_id))
            | ((Grant.grantee_type == "group") & Grant.grantee_id.in_(groups))
        )
        & (Grant.expires.is_null() | (Grant.expires > now))
        & Grant.space.not_in(own)
        & (Grant.role != roles.DENIED.id)
    )
    return list(query.order_by(Grant.created, Grant.id))


def received(user_id: str, node_ids: list[str]) -> list[Grant]:
    """The user's shares (direct or through a group) on any of ``node_ids``."""
    wanted = set(node_ids)
    return [g for g in _received(user_id) if str(g.node_id) in wanted]


def _free_name(base: str, taken: set[str], *, is_dir: bool) -> str:
    """``base``, else ``base (2)``, ``base (3)``… (files keep their suffix)."""
    if base not in taken:
        return base
    stem, dot, suffix = base.rpartition(".")
    if is_dir or not dot or not stem:
        stem, dot, suffix = base, "", ""
    for number in range(2, 10_000):
        candidate = f"{stem} ({number}){dot}{suffix}"
        if candidate not in taken:
            return candidate
    raise Conflict(f"too many shares named {base!r}")


def _states(user_id: str) -> dict[str, ShareState]:
    query = ShareState.select().where(ShareState.user == user_id)
    return {str(state.grant_id): state for state in query}


def mounts(user_id: str) -> list[Mount]:
    """Every share the user received and can still reach, with its mount name."""
    grants = _received(user_id)
    states = _states(user_id)
    located = {str(g.id): locate(str(g.node_id)) for g in grants}
    missing = [g for g in grants if str(g.id) not in states and located[str(g.id)]]
    if missing:
        with db.write():
            # Again under the write lock: a parallel request may have mounted them.
            states = _states(user_id)
            missing = [g for g in missing if str(g.id) not in states]
            taken = {str(s.mount_name) for s in states.values()}
            for grant in missing:
                where = located[str(grant.id)]
                assert where is not None
                name = where[1][-1] if where[1] else str(where[0].name)
                node = Node.get_or_none(Node.id == grant.node_id)
                is_dir = bool(node.is_dir) if node is not None else True
                state = ShareState.create(
                    grant=grant.id,
                    user=user_id,
                    mount_name=_free_name(name, taken, is_dir=is_dir),
                )
                taken.add(str(state.mount_name))
                states[str(grant.id)] = state
        for grant in missing:
            # Shares are accepted automatically, when the jail first shows them.
            _record_as(user_id, "share_accepted", grant)
    out: list[Mount] = []
    for grant in grants:
        where = located[str(grant.id)]
        if where is not None:
            out.append(Mount(grant, states[str(grant.id)], where[0], where[1]))
    return out


def mount(user_id: str, name: str) -> Mount | None:
    """The user's share mounted as ``name`` in their jail."""
    for found in mounts(user_id):
        if found.name == name:
            return found
    return None


def set_state(
    actor: Principal,
    grant_id: str,
    *,
    hidden: bool | None = None,
    synchronize: bool | None = None,
    name: str | None = None,
    address: str = "",
) -> Mount:
    """Hide or show a received share, start or stop syncing it, or give it
    another name in the jail (OpenCloud audits each as the share's new state:
    accepted, or declined when unsynced)."""
    found = _received_mount(actor.user_id, grant_id)
    if hidden is not None:
        found.state.hidden = hidden
    if synchronize is not None:
        found.state.synchronize = synchronize
    with db.write():
        if name is not None and name != found.name:
            found.state.mount_name = _free_mount_name(actor.user_id, name)
        found.state.save()
    action = "share_accepted" if found.state.synchronize else "share_declined"
    detail = f"hidden={bool(found.state.hidden)} name={found.name!r}"
    record(action, actor, found.grant, detail, address)
    return found


def mount_item(
    actor: Principal, node_id: str, *, name: str | None = None, address: str = ""
) -> Mount:
    """Sync again (mount) a share of the item ``node_id`` the user received."""
    for found in mounts(actor.user_id):
        if str(found.grant.node_id) == node_id:
            grant_id = str(found.grant.id)
            return set_state(
                actor, grant_id, synchronize=True, name=name, address=address
            )
    raise NotFound(f"no share of {node_id!r} received")


def _received_mount(user_id: str, grant_id: str) -> Mount:
    for found in mounts(user_id):
        if str(found.grant.id) == grant_id:
            return found
    raise NotFound(f"no share {grant_id!r} received")


def _free_mount_name(user_id: str, name: str) -> str:
    """``name`` checked as a new name and free in the user's jail."""
    name = check_new_name(name)
    if any(str(s.mount_name) == name for s in _states(user_id).values()):
        raise Conflict(f"a share is already named {name!r}")
    return name
