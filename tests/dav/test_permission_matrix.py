"""Every role and link type × WebDAV method × file/folder, through the share
jail, a public link, a project space's membership and one's own space: the
status each gets.

One server for the whole module; each case acts on fresh names, so cases do
not depend on each other's order.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from app import links, roles, shares, spaces, users
from app.auth.principal import Principal
from app.perms import Perm
from tests.conftest import PASSWORD, LiveServer, make_settings, start_server

JAIL = shares.JAIL_DRIVE_ID
ALL = frozenset({"read", "list", "write", "create", "delete", "rename"})
# What each role or link type lets its holder do, written out independently
# of app.roles so that the test checks the mapping too.
ROLE_CAPS = {
    "Viewer": {"read", "list"},
    "ViewerListGrants": {"read", "list"},
    "SecureViewer": {"list"},
    "Editor": {"read", "list", "write", "create", "delete", "rename"},
    "EditorListGrants": {"read", "list", "write", "create", "delete", "rename"},
    "EditorLite": {"write", "create"},
    "FileEditor": {"read", "write", "rename"},
    "FileEditorListGrants": {"read", "write", "rename"},
}
FOLDER_ROLES = [
    "Viewer",
    "ViewerListGrants",
    "SecureViewer",
    "Editor",
    "EditorListGrants",
    "EditorLite",
]
FILE_ROLES = [
    "Viewer",
    "ViewerListGrants",
    "SecureViewer",
    "FileEditor",
    "FileEditorListGrants",
]
LINK_CAPS = {
    "view": {"read", "list"},
    "upload": {"read", "list", "write", "create"},
    "edit": {"read", "list", "write", "create", "delete", "rename"},
    "createOnly": {"create"},
    "blocksDownload": {"list"},
}
FOLDER_LINKS = ["view", "upload", "edit", "createOnly", "blocksDownload"]
FILE_LINKS = ["view", "edit", "blocksDownload"]
METHODS = ["GET", "HEAD", "PUT", "MKCOL", "DELETE", "MOVE", "COPY", "PROPFIND"]
METHODS += ["PROPPATCH", "LOCK", "OPTIONS"]
# Space members' roles, on items of a project space (not its root).
MEMBER_CAPS = {
    "Manager": ALL,
    "SpaceEditor": ALL,
    "SpaceEditorWithoutVersions": ALL,
    "SpaceViewer": {"read", "list"},
}
MEMBER_ROLES = sorted(MEMBER_CAPS)
# A SpaceEditor denied one folder: for them it does not exist.
DENIED = {
    "GET": 404,
    "HEAD": 404,
    "PUT": 409,
    "MKCOL": 409,
    "DELETE": 404,
    "MOVE": 404,
    "COPY": 404,
    "PROPFIND": 404,
    "PROPPATCH": 404,
    "LOCK": 409,
    "OPTIONS": 404,  # as for any path in a folder that does not exist
}

PROPPATCH = (
    '<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:x="urn:x">'
    "<d:set><d:prop><x:colour>green</x:colour></d:prop></d:set></d:propertyupdate>"
)
LOCK = (
    '<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/>'
    "</d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>"
)


@dataclass
class Context:
    """Where a case acts: a base URL for the shared item and who asks."""

    name: str
    kind: str  # file | folder
    caps: frozenset[str]
    base: str  # URL of the shared folder or file as the caller sees it
    disk: Path  # the same item on disk (the owner's space)
    auth: tuple[str, str] | None
    mount: bool  # the shared item is a mount (cannot be deleted or renamed)
    personal: str  # a folder URL of the caller's own, for COPY out (or "")
    denied: bool = False  # a Denied grant keeps the caller out


@dataclass
class World:
    live: LiveServer
    contexts: dict[str, Context]


_counter = itertools.count()


def _fresh() -> str:
    return f"n{next(_counter)}"


def _principal(name: str) -> Principal:
    user = users.get(name)
    return Principal(user_id=str(user.id), name=name)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = make_settings(tmp_path_factory.mktemp("matrix") / "data")
    server, live = start_server(settings)
    try:
        yield _build(live)
    finally:
        server.stop()


def _build(live: LiveServer) -> World:
    live.add_user("alice")
    grove = live.app.grove
    alice = _principal("alice")
    home = live.user_root("alice")
    tree = grove.tree(spaces.personal_space(users.get("alice")))
    owner_perms = Perm.owner()
    contexts: dict[str, Context] = {}
    for role in sorted(set(FOLDER_ROLES) | set(FILE_ROLES)):
        live.add_user(f"u{role}")
    for kind, names in (("folder", FOLDER_ROLES), ("file", FILE_ROLES)):
        for role in names:
            item_name = f"{kind}-{role}" + (".txt" if kind == "file" else "")
            path = _make(home, item_name, kind)
            item = tree.item([item_name])
            shares.share(
                alice,
                item,
                owner_perms,
                grantee_type="user",
                grantee_id=f"u{role}",
                role=role,
            )
            contexts[f"share-{role}-{kind}"] = Context(
                f"share-{role}-{kind}",
                kind,
                frozenset(ROLE_CAPS[role]),
                f"{live.url}/dav/spaces/{JAIL}/{item_name}",
                path,
                (f"u{role}", PASSWORD),
                True,
                f"{live.dav(f'u{role}')}",
            )
    for kind, names in (("folder", FOLDER_LINKS), ("file", FILE_LINKS)):
        for link_type in names:
            item_name = f"link-{kind}-{link_type}" + (".txt" if kind == "file" else "")
            path = _make(home, item_name, kind)
            item = tree.item([item_name])
            grant = links.create(
                alice, item, owner_perms, link_type=link_type, password="secret-1"
            )
            contexts[f"link-{link_type}-{kind}"] = Context(
                f"link-{link_type}-{kind}",
                kind,
                frozenset(LINK_CAPS[link_type]),
                f"{live.url}/dav/public-files/{grant.link_token}",
                path,
                ("public", "secret-1"),
                True,
                "",
            )
    contexts.update(_members(live, alice))
    for kind in ("folder", "file"):
        item_name = f"own-{kind}" + (".txt" if kind == "file" else "")
        path = _make(home, item_name, kind)
        contexts[f"own-{kind}"] = Context(
            f"own-{kind}",
            kind,
            ALL,
            f"{live.dav('alice')}/{item_name}",
            path,
            ("alice", PASSWORD),
            False,
            live.dav("alice"),
        )
    return World(live, contexts)


def _members(live: LiveServer, alice: Principal) -> dict[str, Context]:
    """Members of alice's project space with each space role, and a
    SpaceEditor denied one folder."""
    storage = live.settings.storage_dir
    space = spaces.create_project(storage, "Matrix", creator=users.get("alice"))
    root = spaces.root_path(storage, space)
    url = f"{live.url}/dav/spaces/{spaces.drive_id(space)}"
    tree = live.app.grove.tree(space)
    contexts: dict[str, Context] = {}
    for role in [*MEMBER_ROLES, "Denied"]:
        name = f"m{role}"
        live.add_user(name)
        held = roles.SPACE_EDITOR if role == "Denied" else roles.get(role)
        assert held is not None
        spaces.add_member(space, "user", users.get(name).id, held.id)
        for kind in ("folder", "file"):
            if role == "Denied" and kind == "file":
                continue  # Denied applies to folders only
            item_name = f"member-{kind}-{role}" + (".txt" if kind == "file" else "")
            path = _make(root, item_name, kind)
            if role == "Denied":
                shares.share(
                    alice,
                    tree.item([item_name]),
                    Perm.owner(),
                    grantee_type="user",
                    grantee_id=name,
                    role="Denied",
                )
            contexts[f"member-{role}-{kind}"] = Context(
                f"member-{role}-{kind}",
                kind,
                frozenset(MEMBER_CAPS.get(role, ALL)),
                f"{url}/{item_name}",
                path,
                (name, PASSWORD),
                False,
                live.dav(name),
                denied=role == "Denied",
            )
    return contexts


def _make(home: Path, name: str, kind: str) -> Path:
    path = home / name
    if kind == "folder":
        path.mkdir()
        (path / "sub").mkdir()
    else:
        path.write_bytes(b"shared content")
    return path


def expected(context: Context, method: str) -> int:
    """The status a case must get, from the context's capabilities."""
    caps = context.caps
    if context.denied:
        return DENIED[method]
    if context.kind == "file":
        return _expected_file(context, method)
    return {
        "GET": 200 if "read" in caps else 403,
        "HEAD": 200 if "read" in caps else 403,
        "PUT": 201 if "create" in caps else 403,
        "MKCOL": 201 if "create" in caps else 403,
        "DELETE": 204 if "delete" in caps else 403,
        "MOVE": 201 if {"rename", "create"} <= caps else 403,
        "COPY": 201 if {"read", "create"} <= caps else 403,
        "PROPFIND": 207,
        "PROPPATCH": 207 if "write" in caps else 403,
        "LOCK": 200 if "write" in caps else 403,
        "OPTIONS": 200,
    }[method]


def _expected_file(context: Context, method: str) -> int:
    caps = context.caps
    mount = context.mount
    copy = 201 if "read" in caps else 403
    if not context.personal:
        copy = 409  # a link reaches nothing else to copy to
    moves = not mount and "rename" in caps
    return {
        "GET": 200 if "read" in caps else 403,
        "HEAD": 200 if "read" in caps else 403,
        "PUT": 204 if "write" in caps else 403,
        "MKCOL": 405,
        "DELETE": 204 if not mount and "delete" in caps else 403,
        "MOVE": (201 if moves else 403) if context.personal else 409,
        "COPY": copy,
        "PROPFIND": 207,
        "PROPPATCH": 207 if "write" in caps else 403,
        "LOCK": 200 if "write" in caps else 403,
        "OPTIONS": 200,
    }[method]


def act(context: Context, method: str) -> requests.Response:
    """One request of ``method`` on a fresh target inside the context."""
    if context.kind == "file":
        target, destination = context.base, f"{context.personal}/{_fresh()}.txt"
        if not context.personal:
            destination = f"{context.base}/{_fresh()}.txt"
        if not context.mount and method in ("DELETE", "MOVE"):
            name = f"{_fresh()}.txt"
            (context.disk.parent / name).write_bytes(b"mine")
            target = f"{context.base.rpartition('/')[0]}/{name}"
    else:
        name = _fresh()
        (context.disk / f"{name}.txt").write_bytes(b"inside")
        target = f"{context.base}/{name}.txt"
        destination = f"{context.base}/{name}-2.txt"
        if method in ("PUT", "MKCOL"):
            target = f"{context.base}/{_fresh()}"
    headers: dict[str, str] = {}
    data: bytes | str | None = None
    if method in ("MOVE", "COPY"):
        headers["Destination"] = destination
    elif method == "PROPFIND":
        target, headers["Depth"] = context.base, "1"
    elif method == "PROPPATCH":
        data = PROPPATCH
    elif method == "LOCK":
        data, headers["Timeout"] = LOCK, "Second-60"
    elif method == "PUT":
        data = b"new content"
    return requests.request(
        method, target, data=data, headers=headers, auth=context.auth, timeout=30
    )


KINDS = ("folder", "file")
CASES = [
    (name, method)
    for name in [
        *(f"share-{role}-folder" for role in FOLDER_ROLES),
        *(f"share-{role}-file" for role in FILE_ROLES),
        *(f"link-{kind}-folder" for kind in FOLDER_LINKS),
        *(f"link-{kind}-file" for kind in FILE_LINKS),
        *(f"member-{role}-{kind}" for role in MEMBER_ROLES for kind in KINDS),
        "member-Denied-folder",
        "own-folder",
        "own-file",
    ]
    for method in METHODS
]


@pytest.mark.parametrize(("context_name", "method"), CASES)
def test_status_per_role_and_method(
    world: World, context_name: str, method: str
) -> None:
    context = world.contexts[context_name]
    answer = act(context, method)
    assert answer.status_code == expected(context, method), answer.text[:300]
