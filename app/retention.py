"""Retention: trash older than ``trash_retention_days`` is purged; versions
older than ``versions_retention_days``, and beyond ``versions_max_count`` per
file, are removed. A periodic durable job applies it every hour in whichever
process's workers pick it up first; running it twice at once is harmless.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from app import jobs
from app.config import Settings
from app.storage import trash, versions

if TYPE_CHECKING:
    from app.instance import Grove

logger = logging.getLogger(__name__)

DAY = 86400


def apply(settings: Settings, now: float | None = None) -> tuple[int, int]:
    """Apply the retention rules as of ``now``; (trash items, versions) removed."""
    now = time.time() if now is None else now
    state_dir = settings.state_dir
    purged = 0
    if settings.trash_retention_days > 0:
        purged = trash.expire(state_dir, now - settings.trash_retention_days * DAY)
    days = settings.versions_retention_days
    removed = versions.expire(
        state_dir,
        older_than=now - days * DAY if days > 0 else None,
        max_count=settings.versions_max_count,
    )
    if purged or removed:
        logger.info(
            "retention: purged %d trashed items and %d versions", purged, removed
        )
    return purged, removed


@jobs.task("retention.apply")
def apply_job(grove: Grove, now: float | None = None) -> None:
    apply(grove.settings, now)


@jobs.periodic("retention", minute="23")
def hourly(grove: Grove) -> None:
    apply(grove.settings)
