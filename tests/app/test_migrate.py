"""Schema versions: old databases are upgraded by the current code, new ones made."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from app import db, migrate
from app.instance import Grove
from app.models import Meta, Node, User
from tests.app.processes import REPO, grove
from tests.conftest import make_settings

SCHEMA1 = REPO / "tests" / "data" / "schema1"
SCHEMA1_USER = ("carol", "carol-schema-1")


def _copy_of_schema1(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(SCHEMA1, data)
    return data


def _columns(path: Path) -> dict[str, list[tuple[str, str, int]]]:
    """Tables with their (name, type, not null) columns and index definitions."""
    with sqlite3.connect(path) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        shape: dict[str, list[tuple[str, str, int]]] = {}
        for table in tables:
            info = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
            indexes = connection.execute(f'PRAGMA index_list("{table}")').fetchall()
            shape[table] = sorted((row[1], row[2], row[3]) for row in info) + sorted(
                (row[1], "index", row[2]) for row in indexes
            )
    return shape


def test_schema1_database_upgrades_and_its_user_still_signs_in(tmp_path: Path) -> None:
    data = _copy_of_schema1(tmp_path)
    grove = Grove(make_settings(data))

    assert migrate.current_version() == 1
    assert grove.upgrade() == (1, migrate.LATEST)
    assert migrate.current_version() == migrate.LATEST

    grove.prepare()
    principal = grove.sign_in_basic(*SCHEMA1_USER, address="127.0.0.1")
    assert principal is not None and principal.name == "carol"
    assert grove.sign_in_basic("carol", "wrong password", address="127.0.0.1") is None
    assert sorted(user.name for user in User.select()) == ["admin", "carol"]
    names = {node.name for node in Node.select()}
    assert {"Documents", "Photos", "notes.txt", "résumé.txt", "top.bin"} <= names
    assert Meta.get(Meta.key == "storage_id").value


def test_upgraded_schema1_has_the_tables_of_a_new_database(tmp_path: Path) -> None:
    upgraded = _copy_of_schema1(tmp_path)
    Grove(make_settings(upgraded)).upgrade()
    fresh = tmp_path / "fresh"
    Grove(make_settings(fresh)).upgrade()
    db.database.close()
    assert _columns(upgraded / ".grove" / "grove.db") == _columns(
        fresh / ".grove" / "grove.db"
    )


def test_migrate_command_upgrades_the_schema1_fixture(tmp_path: Path) -> None:
    data = _copy_of_schema1(tmp_path)
    result = grove("migrate", "--data", data)
    assert result.returncode == 0, result.stderr
    expected = "schema version 1" if migrate.LATEST == 1 else f"1 -> {migrate.LATEST}"
    assert result.stdout.strip().endswith(expected)


def test_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    data = _copy_of_schema1(tmp_path)
    grove_ = Grove(make_settings(data))
    with db.write():
        Meta.replace(key="schema_version", value="99").execute()
    with pytest.raises(migrate.SchemaError, match="newer than this Grove"):
        grove_.upgrade()
    db.database.close()

    result = grove("user", "list", "--data", data)
    assert result.returncode == 1
    assert "schema version 99 is newer" in result.stderr
    assert "Traceback" not in result.stderr
