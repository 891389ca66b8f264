"""A running Grove: settings, database, storage folders and the admin account.

Edges receive this object from the composition root and ask it for the
core's services; nothing here knows about HTTP.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from app import audit, migrate, users
from app.auth.basic import CredentialCache, authenticate_password
from app.auth.passwords import generate_password
from app.auth.principal import Principal
from app.config import Settings
from app.db import open_database
from app.models import Space, User
from app.spaces import root_path
from app.storage.tree import SpaceTree
from app.storage.upload import clean_staging

logger = logging.getLogger(__name__)


class Grove:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.credentials = CredentialCache(settings.credential_cache_seconds)
        self.database = open_database(settings.database_url, settings.state_dir)

    @property
    def storage_dir(self) -> Path:
        return self.settings.storage_dir

    @property
    def staging_dir(self) -> Path:
        return self.settings.state_dir / "uploads"

    def prepare(self) -> None:
        """Create folders, upgrade the schema, tidy staging, make the first admin."""
        for folder in (self.storage_dir / "users", self.storage_dir / "projects"):
            folder.mkdir(parents=True, exist_ok=True)
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        self.settings.state_dir.chmod(0o700)
        migrate.migrate()
        removed = clean_staging(self.staging_dir)
        if removed:
            logger.info("removed %d staging files left by an interrupted upload", removed)
        self._first_admin()
        # No connection may cross a fork (gunicorn --preload): each thread opens its own.
        self.database.close()

    def _first_admin(self) -> None:
        if User.select().exists():
            return
        password = self.settings.admin_password or generate_password()
        users.add(self.storage_dir, "admin", password, admin=True, actor="grove")
        if not self.settings.admin_password:
            # Shown once on the terminal, deliberately not through logging.
            print(
                f"\nCreated account 'admin' with password: {password}\n"
                "Store it now: it is not shown again.\n",
                file=sys.stderr,
                flush=True,
            )

    def tree(self, space: Space) -> SpaceTree:
        return SpaceTree(space, root_path(self.storage_dir, space))

    def sign_in_basic(self, name: str, password: str, address: str) -> Principal | None:
        principal = authenticate_password(self.credentials, name, password)
        if principal is None:
            logger.warning("failed sign-in for %r from %s", name, address)
            audit.record("auth.signin", actor=name, address=address, outcome="failed")
        return principal

    def ready(self) -> list[str]:
        """Problems that keep this instance from serving; empty when ready."""
        problems = []
        try:
            self.database.execute_sql("SELECT 1")
        except Exception as error:  # noqa: BLE001 - reported, not raised
            problems.append(f"database: {error}")
        if not self.storage_dir.is_dir():
            problems.append(f"storage: {str(self.storage_dir)!r} is not a folder")
        return problems
