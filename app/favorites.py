"""Favourites: a user marks items (``oc:favorite``); per user, kept by node id
so they follow the item through moves and restores."""

from __future__ import annotations

from collections.abc import Iterable

from app import db
from app.models import Favorite

CHUNK = 500


def set_favorite(user_id: str, node_id: str, on: bool) -> None:
    """Mark or unmark ``node_id`` as a favourite of ``user_id``."""
    with db.write():
        if on:
            Favorite.insert(
                user=user_id, node_id=node_id
            ).on_conflict_ignore().execute()
        else:
            Favorite.delete().where(
                (Favorite.user == user_id) & (Favorite.node_id == node_id)
            ).execute()


def among(user_id: str, node_ids: Iterable[str]) -> set[str]:
    """Which of ``node_ids`` are favourites of ``user_id`` (one query per 500)."""
    wanted = list(node_ids)
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        query = Favorite.select(Favorite.node_id).where(
            (Favorite.user == user_id)
            & Favorite.node_id.in_(wanted[start : start + CHUNK])
        )
        found.update(str(row.node_id) for row in query)
    return found


def of_user(user_id: str) -> list[str]:
    """The node ids ``user_id`` marked, in no particular order."""
    query = Favorite.select(Favorite.node_id).where(Favorite.user == user_id)
    return [str(row.node_id) for row in query]
