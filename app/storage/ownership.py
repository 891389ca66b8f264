"""Owner, group and mode of what Grove writes into storage/, from config.

Set on the staging file's descriptor (``fchmod``, ``fchown``) before the
commit rename, never through the umask, which is process-wide. Policies are
kept per data folder, so that several instances in one process (tests) each
keep their own.
"""

from __future__ import annotations

import dataclasses
import functools
import grp
import logging
import os
import pwd
from pathlib import Path

from app.config import Settings

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Policy:
    file_mode: int = 0o644
    folder_mode: int = 0o755
    uid: int = -1  # -1: leave as created
    gid: int = -1


_policies: dict[Path, Policy] = {}


def user_id(name: str) -> int:
    return int(name) if name.isdigit() else pwd.getpwnam(name).pw_uid


def group_id(name: str) -> int:
    return int(name) if name.isdigit() else grp.getgrnam(name).gr_gid


def configure(settings: Settings) -> Policy:
    policy = Policy(
        file_mode=int(settings.file_mode, 8),
        folder_mode=int(settings.folder_mode, 8),
        uid=user_id(settings.file_owner) if settings.file_owner else -1,
        gid=group_id(settings.file_group) if settings.file_group else -1,
    )
    _policies[settings.data.resolve()] = policy
    return policy


def for_state_dir(state_dir: Path) -> Policy:
    """The policy of the instance whose ``.grove`` folder is ``state_dir``."""
    return _policies.get(_resolved(state_dir.parent), Policy())


@functools.lru_cache(maxsize=64)
def _resolved(folder: Path) -> Path:
    # Every upload asks; resolve() costs a system call per path component.
    return folder.resolve()


def _chown(call: str, target: int | str | Path, policy: Policy) -> None:
    if policy.uid == -1 and policy.gid == -1:
        return
    try:
        if isinstance(target, int):
            os.fchown(target, policy.uid, policy.gid)
        else:
            os.chown(target, policy.uid, policy.gid)
    except PermissionError as error:
        # Only root may give files away; a member may still set its group.
        logger.warning("cannot set owner/group by %s: %s", call, error)


def apply_fd(fd: int, policy: Policy) -> None:
    """Owner, group and mode of a file Grove is writing."""
    _chown("fchown", fd, policy)
    os.fchmod(fd, policy.file_mode)


def apply_path(path: Path, policy: Policy, *, folder: bool) -> None:
    """Owner, group and mode of a folder (or copied file) Grove made."""
    _chown("chown", path, policy)
    os.chmod(path, policy.folder_mode if folder else policy.file_mode)
