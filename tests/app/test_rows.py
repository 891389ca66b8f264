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
