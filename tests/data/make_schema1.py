"""Make tests/data/schema1/.grove/grove.db: a database written by schema 1.

Run once, by the code of schema 1 (`.venv/bin/python tests/data/make_schema1.py`);
the file is then kept as it is, so that the upgrade test opens data written by
old code. Later schemas add their own fixture the same way, never regenerate
this one.
"""

from __future__ import annotations

import base64
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from werkzeug.test import Client

from app import db, migrate, users
from app.config import load_settings
from app.factory import create_app

USER, PASSWORD = "carol", "carol-schema-1"
TARGET = Path(__file__).parent / "schema1" / ".grove" / "grove.db"


def _populate(data: Path) -> None:
    settings = load_settings(
        environ={}, overrides={"data": data, "admin_password": "admin-schema-1"}
    )
    client = Client(create_app(settings))
    users.add(settings.storage_dir, USER, PASSWORD, actor="fixture")
    auth = {"Authorization": "Basic " + _basic(USER, PASSWORD)}
    base = f"/remote.php/dav/files/{USER}"
    requests = [
        ("MKCOL", f"{base}/Documents", b""),
        ("MKCOL", f"{base}/Photos", b""),
        ("PUT", f"{base}/Documents/notes.txt", b"schema 1 notes\n"),
        ("PUT", f"{base}/Documents/r%C3%A9sum%C3%A9.txt", b"unicode name\n"),
        ("PUT", f"{base}/top.bin", bytes(range(256))),
    ]
    for method, path, body in requests:
        answer = client.open(path, method=method, data=body, headers=auth)
        assert answer.status_code in (201, 204), (method, path, answer.status)
    answer = client.open(f"{base}/", method="PROPFIND", headers={**auth, "Depth": "1"})
    assert answer.status_code == 207, answer.status
    db.database.close()


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def main() -> None:
    if migrate.LATEST != 1:
        sys.exit(
            "this script makes the schema 1 fixture; the code is at a later schema"
        )
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        _populate(data)
        source = data / ".grove" / "grove.db"
        # One self-contained file: no WAL beside it, no free pages.
        with sqlite3.connect(source) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.execute("PRAGMA journal_mode=DELETE")
            connection.execute("VACUUM")
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, TARGET)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
