"""The audit trail: one function records who did what to which target, from
where, and how it ended (sign-ins, user changes, file changes)."""

from __future__ import annotations

import logging

from app import db
from app.models import AuditEvent

logger = logging.getLogger(__name__)


def record(
    action: str,
    *,
    actor: str = "",
    address: str = "",
    target: str = "",
    outcome: str = "ok",
    detail: str = "",
) -> None:
    """Append one audit event; failures are logged, never raised into a request."""
    try:
        with db.write():
            AuditEvent.create(
                action=action,
                actor=actor,
                address=address,
                target=target,
                outcome=outcome,
                detail=detail,
            )
    except Exception:
        logger.exception("could not record audit event %r on %r", action, target)
