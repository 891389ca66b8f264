"""Compiled equality lookups (app/rows.py) return what peewee's own query does."""

from __future__ import annotations

from app import rows, users
from app.config import Settings
from app.factory import create_app
from app.models import Space, TotpSecret, User


def test_lookups_match_peewee_rows(settings: Settings) -> None:
    create_app(settings)
    alice = users.add(settings.storage_dir, "alice", "correct horse battery")
    for _ in range(2):  # the second call binds the cached statement
        found = rows.first(User, name="alice")
        assert found is not None
        assert found.__data__ == User.get_by_id(alice.id).__data__
        space = rows.first(Space, kind="personal", owner=alice.id)
        assert space is not None and space.owner.name == "alice"
        assert rows.first(User, name="nobody") is None
        assert not rows.exists(TotpSecret, user=alice.id, enabled=True)
        assert rows.exists(User, id=alice.id)
    # None matches no row, as peewee's "= NULL" does not either.
    assert rows.first(Space, owner=None, kind="personal") is None


def test_replace_and_touch_rows_write_what_peewee_would(settings: Settings) -> None:
    from app import db
    from app.models import Node
    from app.storage.tree import touch_rows

    create_app(settings)
    alice = users.add(settings.storage_dir, "alice", "correct horse battery")
    space = rows.first(Space, kind="personal", owner=alice.id)
    assert space is not None
    for size in (5, 7):  # the second round binds the cached statements
        row = Node(
            id="n1", space=space.id, parent_id=None, name="a", is_dir=False, size=size
        )
        with db.write():
            rows.replace(row)
            touch_rows(["n1"], 100)
        stored = Node.get_by_id("n1")
        assert (stored.size, stored.tree_size, stored.name) == (size, 100, "a")
        assert stored.tree_mtime_ns > 0
