"""A running Grove: settings, database, storage folders and the admin account.

Edges receive this object from the composition root and ask it for the
core's services; nothing here knows about HTTP.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from app import jobs, migrate, pipeline, sealing, users
from app.auth.passwords import generate_password
from app.auth.principal import Principal
from app.auth.signin import Authenticator
from app.config import Settings
from app.db import open_database
from app.keys import Keyring
from app.models import Space, User
from app.spaces import root_path
from app.storage.tree import SpaceTree
from app.storage.upload import clean_staging

logger = logging.getLogger(__name__)

# peewee logs every query with its parameters at debug level: password hashes
# and other secrets would reach the log whenever Grove runs at `debug`.
logging.getLogger("peewee").setLevel(logging.INFO)


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (across processes) inside the block."""
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


class Grove:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        key_file = settings.master_key_file
        self.keyring = Keyring(
            settings.state_dir / "keys",
            settings.master_key,
            Path(key_file) if key_file else None,
        )
        self.auth = Authenticator(settings, self.keyring)
        self.database = open_database(settings.database_url, settings.state_dir)
        self._running: IO[bytes] | None = None

    @property
    def storage_dir(self) -> Path:
        return self.settings.storage_dir

    @property
    def staging_dir(self) -> Path:
        return self.settings.state_dir / "uploads"

    def prepare(self) -> None:
        """Create folders, upgrade the schema, tidy staging, make the first admin."""
        logger.debug("settings: %s", self.settings.redacted())
        for folder in (self.storage_dir / "users", self.storage_dir / "projects"):
            folder.mkdir(parents=True, exist_ok=True)
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        self.settings.state_dir.chmod(0o700)
        # Every door's uploads pass the steps and the scanner these settings choose.
        pipeline.configure(self.settings)
        # gunicorn workers start side by side: one at a time migrates and
        # makes the first admin, the others then find the work done.
        with _exclusive(self.settings.state_dir / "prepare.lock"):
            migrate.migrate()
            # A missing or wrong master key stops the start here, with its reason.
            self.keyring.load()
            sealing.check(self.keyring)
            self._clean_staging()
            self._first_admin()
            jobs.configure(self)
        # No connection may cross a fork (gunicorn --preload): threads open their own.
        self.database.close()

    def upgrade(self) -> tuple[int, int]:
        """Bring the database schema up to date; (old version, new version)."""
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        with _exclusive(self.settings.state_dir / "prepare.lock"):
            return migrate.migrate()

    def _clean_staging(self) -> None:
        """Remove staging files of plain PUTs, unless another Grove process runs.

        Every process holds a shared lock on ``running.lock`` while it lives, so
        the exclusive lock succeeds only when no other Grove (a gunicorn worker
        restarted beside live ones, a CLI command next to a server) could be
        writing a staging file this very moment.
        """
        handle = open(self.settings.state_dir / "running.lock", "a+b")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.debug("another Grove process runs: staging files left as they are")
        else:
            removed = clean_staging(self.staging_dir)
            if removed:
                logger.info("removed %d staging files of interrupted uploads", removed)
        fcntl.flock(handle, fcntl.LOCK_SH)
        self._running = handle

    def _first_admin(self) -> None:
        if User.select().exists():
            return
        password = self.settings.admin_password or generate_password()
        users.add(self.storage_dir, "admin", password, admin=True, actor="grove")
        logger.info("created account 'admin' with admin rights")
        if not self.settings.admin_password:
            # Shown once on the terminal, deliberately not through logging:
            # log files are kept and shipped, a terminal is not.
            print(
                f"\nCreated account 'admin' with password: {password}\n"
                "Store it now: it is not shown again.\n",
                file=sys.stderr,
                flush=True,
            )

    def tree(self, space: Space) -> SpaceTree:
        return SpaceTree(space, root_path(self.storage_dir, space))

    def authenticate(self, authorization: str, address: str) -> Principal:
        """The principal for an ``Authorization`` header (see app.auth.signin)."""
        return self.auth.authenticate(authorization, address)

    def sign_in_basic(self, name: str, password: str, address: str) -> Principal | None:
        """The principal for a name and password, or None; recorded and counted."""
        return self.auth.password(name, password, address)

    def ready(self) -> dict[str, str]:
        """Problems that keep this instance from serving, by component; empty: ready."""
        problems: dict[str, str] = {}
        try:
            migrate.current_version()
        except Exception as error:  # noqa: BLE001 - reported as not ready, not raised
            problems["database"] = str(error)
        for folder in (self.storage_dir / "users", self.staging_dir):
            try:
                with os.scandir(folder):
                    pass
            except OSError as error:
                problems["storage"] = f"{error.strerror}: {str(folder)!r}"
        return problems
