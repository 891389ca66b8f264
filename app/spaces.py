"""Spaces: a folder below storage/ with an id; personal ones belong to a user."""

from __future__ import annotations

import uuid
from pathlib import Path

from app import db
from app.errors import NotFound
from app.migrate import storage_id
from app.models import Space, User
from app.storage import ids
from app.storage.names import folder_name


def drive_id(space: Space) -> str:
    """The id clients see: ``<storage-id>$<space-id>``."""
    return f"{storage_id()}${space.id}"


def resource_id(space: Space, node_id: str) -> str:
    """``<storage-id>$<space-id>!<node-id>``, as OpenCloud's clients parse it."""
    return f"{storage_id()}${space.id}!{node_id}"


def by_drive_id(value: str) -> Space:
    """Find a space by drive id (``<storage>$<uuid>``) or by its bare UUID."""
    space_id = value.rpartition("$")[2]
    space = Space.get_or_none(Space.id == space_id)
    if space is None:
        raise NotFound(f"no space {value!r}")
    return space


def personal_space(user: User) -> Space:
    space = Space.get_or_none((Space.kind == "personal") & (Space.owner == user.id))
    if space is None:
        raise NotFound(f"user {user.name!r} has no personal space")
    return space


def root_path(storage_dir: Path, space: Space) -> Path:
    return storage_dir / space.folder


def _free_folder(storage_dir: Path, parent: str, name: str) -> str:
    base = f"{parent}/{folder_name(name)}"
    candidate, counter = base, 1
    while (storage_dir / candidate).exists() or Space.get_or_none(
        Space.folder == candidate
    ):
        counter += 1
        candidate = f"{base}-{counter}"
    return candidate


def create_personal(storage_dir: Path, user: User) -> Space:
    """Make a user's personal space and its folder (the name is fixed from now on)."""
    folder = _free_folder(storage_dir, "users", user.name)
    space = Space(
        id=str(uuid.uuid4()), kind="personal", owner=user, name=user.name, folder=folder
    )
    path = storage_dir / folder
    path.mkdir(parents=True)
    ids.write_id(path, space.id)
    with db.write():
        space.save(force_insert=True)
    return space
